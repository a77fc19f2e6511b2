import { parse } from 'pg-connection-string';
import { ConfigError } from '../errors/config-error';

/** The schemes node-postgres reads as a URL; the match is the scheme with its colon. */
const PROTOCOL_PATTERN = /^(postgres(?:ql)?:)\/\//;

/** A parsed `postgres://` URL, with a description that is safe to print. */
export interface DatabaseUrl {
  connectionString: string;
  /** `postgres://user@host:port/database`, never with the password or the query string. */
  description: string;
}

/**
 * Describes a connection string without its password or query string, as node-postgres reads
 * it: a Unix-socket directory given as `?host=/var/run/postgresql` is named as the host.
 * Anything that does not parse is described as unreadable rather than echoed, since it may
 * hold a password.
 */
export function describeConnectionString(connectionString: string): string {
  try {
    const protocol = PROTOCOL_PATTERN.exec(connectionString)?.[1];
    if (!protocol) throw new Error('not a PostgreSQL URL');
    const parsed = parse(connectionString);
    const user = parsed.user ? `${parsed.user}@` : '';
    const host = parsed.host?.startsWith('/') ? `(socket ${parsed.host})` : (parsed.host ?? '');
    const port = parsed.port ? `:${parsed.port}` : '';
    return `${protocol}//${user}${host}${port}/${parsed.database ?? ''}`;
  } catch {
    return '(unreadable connection string)';
  }
}

/**
 * Parses the URL in `variable`. Every URL that node-postgres accepts is accepted (Unix sockets
 * through `?host=`, `sslmode`, `options`, …). Throws {@link ConfigError} with a one-line fix
 * when it is missing, not a PostgreSQL URL, or names no database; the message never repeats
 * the value.
 */
export function parseDatabaseUrl(raw: string | undefined, variable = 'DATABASE_URL'): DatabaseUrl {
  const example = `${variable}=postgres://user:password@host:5432/database`;
  if (raw === undefined || raw.trim() === '') {
    throw new ConfigError([`${variable} is not set: set it, e.g. ${example}`]);
  }
  const connectionString = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(connectionString)?.[1];
  if (!scheme) {
    throw new ConfigError([`${variable} is not a valid URL: use the form ${example}`]);
  }
  if (!PROTOCOL_PATTERN.test(connectionString)) {
    throw new ConfigError([
      `${variable} must start with postgres:// or postgresql:// (got ${scheme}//)`,
    ]);
  }
  let database: string | null | undefined;
  try {
    database = parse(connectionString).database;
  } catch (cause) {
    throw new ConfigError([`${variable} is not a valid URL: use the form ${example}`], { cause });
  }
  if (!database) {
    throw new ConfigError([`${variable} names no database: add /<database> after the host`]);
  }
  return { connectionString, description: describeConnectionString(connectionString) };
}

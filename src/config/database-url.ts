import { ConfigError } from '../errors/config-error';

const PROTOCOLS = new Set(['postgres:', 'postgresql:']);

/** A parsed `postgres://` URL, with a description that is safe to print. */
export interface DatabaseUrl {
  connectionString: string;
  /** `postgres://user@host:port/database`, never with the password. */
  description: string;
}

/**
 * Describes a connection string without its password or query string. Anything that does not
 * parse is described as unreadable rather than echoed, since it may hold a password.
 */
export function describeConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
    const port = url.port ? `:${url.port}` : '';
    return `${url.protocol}//${user}${url.hostname}${port}${url.pathname}`;
  } catch {
    return '(unreadable connection string)';
  }
}

/**
 * Parses the URL in `variable`. Throws {@link ConfigError} with a one-line fix when it is
 * missing or not a PostgreSQL URL; the message never repeats the value.
 */
export function parseDatabaseUrl(raw: string | undefined, variable = 'DATABASE_URL'): DatabaseUrl {
  const example = `${variable}=postgres://user:password@host:5432/database`;
  if (raw === undefined || raw.trim() === '') {
    throw new ConfigError([`${variable} is not set: set it, e.g. ${example}`]);
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch (cause) {
    throw new ConfigError([`${variable} is not a valid URL: use the form ${example}`], { cause });
  }
  const problems: string[] = [];
  if (!PROTOCOLS.has(url.protocol)) {
    problems.push(
      `${variable} must start with postgres:// or postgresql:// (got ${url.protocol}//)`,
    );
  }
  if (url.hostname === '') problems.push(`${variable} names no host: use the form ${example}`);
  if (url.pathname === '' || url.pathname === '/') {
    problems.push(`${variable} names no database: add /<database> after the host`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { connectionString: raw.trim(), description: describeConnectionString(raw.trim()) };
}

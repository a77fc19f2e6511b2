import { DatabaseUnreachableError } from '../errors/database-unreachable-error';
import { sqlStateOf, stringField } from './sqlstate';

/** Codes that mean the CLI never got a working connection, with what each means. */
const CONNECTION_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed by the server',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is not trusted (check sslmode)',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate is not trusted (check sslmode)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not trusted (check sslmode)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is not trusted (check sslmode)',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name this host',
  '28P01': 'password authentication failed',
  '28000': 'authorization rejected',
  '3D000': 'database does not exist',
  '53300': 'too many connections',
  '57P03': 'the server is starting up or shutting down',
};

/** What a password the server asks for and the connection lacks means, and how to give it. */
const NO_PASSWORD =
  'the server asks for a password and none was given: put it in DATABASE_URL or PGPASSWORD';

/**
 * The driver's own fixed messages (node-postgres) for a connection that never came up. Only
 * these exact phrases are compared; no other message text is read.
 */
const DRIVER_CONNECT_FAILURES: ReadonlyArray<readonly [string, string]> = [
  [
    'The server does not support SSL connections',
    'the server does not support SSL (check sslmode)',
  ],
  // The server asked for a SCRAM password and the connection has none (or an empty one).
  ['SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string', NO_PASSWORD],
  ['SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a non-empty string', NO_PASSWORD],
  ['Connection terminated due to connection timeout', 'connection timed out'],
  ['timeout expired', 'connection timed out'],
  ['Connection terminated unexpectedly', 'connection closed by the server'],
  ['Connection terminated', 'connection closed by the server'],
];

function codeOf(err: unknown): string | undefined {
  const code = sqlStateOf(err) ?? stringField(err, 'code');
  if (code !== undefined) return code;
  // Node reports a refused dual-stack connect as an AggregateError of one error per address.
  if (err instanceof AggregateError) return err.errors.map(codeOf).find((c) => c !== undefined);
  return undefined;
}

/** What the driver's fixed message means, when `err` (or its cause) carries one. */
function driverReason(err: unknown, depth = 0): string | null {
  if (!(err instanceof Error) || depth > 3) return null;
  const found = DRIVER_CONNECT_FAILURES.find(([phrase]) => err.message === phrase);
  return found ? found[1] : driverReason(err.cause, depth + 1);
}

/** How {@link connectionFailureReason} reads an error. */
export interface ConnectionFailureContext {
  /**
   * Whether a connection was ever established. A connection lost after that (a terminated
   * backend) is a failure of the work, not an unreachable database. @default false
   */
  connected?: boolean;
}

/**
 * Why `err` means the database could not be reached, or null when it means something else.
 * Reads only codes, the error's class name and the driver's fixed phrases, never the server's
 * text.
 */
export function connectionFailureReason(
  err: unknown,
  context: ConnectionFailureContext = {},
): string | null {
  const code = codeOf(err);
  const meaning = code === undefined ? undefined : CONNECTION_FAILURES[code];
  if (code !== undefined && meaning !== undefined) return `${meaning} [${code}]`;
  if (err instanceof Error && err.name === 'KnexTimeoutError') {
    return 'timed out waiting for a connection';
  }
  if (context.connected === true) return null;
  return driverReason(err);
}

/** `err` as a {@link DatabaseUnreachableError} naming `target`, or null if it is not one. */
export function asDatabaseUnreachable(
  err: unknown,
  target: string,
  context: ConnectionFailureContext = {},
): DatabaseUnreachableError | null {
  const reason = connectionFailureReason(err, context);
  return reason === null ? null : new DatabaseUnreachableError(target, reason, { cause: err });
}

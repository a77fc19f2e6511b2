import { sqlStateOf, stringField } from '../../db/sqlstate';
import { DatabaseUnreachableError } from '../../errors/database-unreachable-error';

/** Codes that mean the CLI never got a working connection, with what each means. */
const CONNECTION_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  '28P01': 'password authentication failed',
  '28000': 'authorization rejected',
  '3D000': 'database does not exist',
  '53300': 'too many connections',
  '57P03': 'the server is starting up or shutting down',
};

function codeOf(err: unknown): string | undefined {
  const code = sqlStateOf(err) ?? stringField(err, 'code');
  if (code !== undefined) return code;
  // Node reports a refused dual-stack connect as an AggregateError of one error per address.
  if (err instanceof AggregateError) return err.errors.map(codeOf).find((c) => c !== undefined);
  return undefined;
}

/**
 * Why `err` means the database could not be reached, or null when it means something else.
 * Reads only codes and the error's class name, never the server's text.
 */
export function connectionFailureReason(err: unknown): string | null {
  const code = codeOf(err);
  const meaning = code === undefined ? undefined : CONNECTION_FAILURES[code];
  if (code !== undefined && meaning !== undefined) return `${meaning} [${code}]`;
  if (err instanceof Error && err.name === 'KnexTimeoutError') {
    return 'timed out waiting for a connection';
  }
  return null;
}

/** `err` as a {@link DatabaseUnreachableError} naming `target`, or null if it is not one. */
export function asDatabaseUnreachable(
  err: unknown,
  target: string,
): DatabaseUnreachableError | null {
  const reason = connectionFailureReason(err);
  return reason === null ? null : new DatabaseUnreachableError(target, reason, { cause: err });
}

import { sqlStateOf, stringField } from './sqlstate';

/**
 * How the backfill reacts to a failed statement:
 * - `transient`: retry the same work after a backoff (serialization failure, deadlock, lock timeout);
 * - `connection`: the connection is gone; reconnect, then retry;
 * - `session`: the data of some session was rejected; isolate it and go on;
 * - `fatal`: nothing a retry or isolation can fix (missing table, disk full); stop the run.
 */
export type DatabaseErrorKind = 'transient' | 'connection' | 'session' | 'fatal';

const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03']);
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03']);
/** SQLSTATE classes raised by the values of a row: data, integrity, PL/pgSQL and trigger errors. */
const SESSION_CLASSES = new Set(['22', '23', 'P0', '2F', '39', '54']);
const CONNECTION_SYSTEM_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTCONN',
]);

/** Classifies a failed statement. See {@link DatabaseErrorKind}. */
export function databaseErrorKind(err: unknown): DatabaseErrorKind {
  const sqlState = sqlStateOf(err);
  if (sqlState !== undefined) {
    if (TRANSIENT_SQLSTATES.has(sqlState)) return 'transient';
    if (CONNECTION_SQLSTATES.has(sqlState) || sqlState.startsWith('08')) return 'connection';
    // A statement timeout on a page is retried session by session, whose statements are small.
    if (sqlState === '57014' || SESSION_CLASSES.has(sqlState.slice(0, 2))) return 'session';
    return 'fatal';
  }
  const code = stringField(err, 'code');
  if (code !== undefined && CONNECTION_SYSTEM_CODES.has(code)) return 'connection';
  const message = err instanceof Error ? err.message : '';
  if (/Connection terminated|not queryable|connection error/i.test(message)) return 'connection';
  return 'fatal';
}

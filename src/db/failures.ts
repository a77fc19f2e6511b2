import { DatabaseUnreachableError, GoalBackfillError } from '../errors';
import type { Logger } from '../logging';
import {
  COLUMNS,
  CONSTRAINTS,
  GOAL_DEDUP_INDEX,
  GOAL_LOOKUP_INDEX,
  INDEXES,
  SESSION_READ_INDEX,
  TABLES,
} from '../names';

/*
 * What a failure means and what of it may be said: the SQLSTATE, the safe description (no row
 * values), the kind that decides retry or isolation, the retry loop, and the reasons a database
 * is unreachable.
 */

const SQLSTATE_PATTERN = /^[0-9A-Z]{5}$/;

/** Condition names for the SQLSTATEs a backfill is likely to meet (PostgreSQL Appendix A). */
const CONDITION_NAMES: Readonly<Record<string, string>> = {
  '08000': 'connection_exception',
  '08003': 'connection_does_not_exist',
  '08006': 'connection_failure',
  '22001': 'string_data_right_truncation',
  '22P02': 'invalid_text_representation',
  '23502': 'not_null_violation',
  '23503': 'foreign_key_violation',
  '23505': 'unique_violation',
  '23514': 'check_violation',
  '25P02': 'in_failed_sql_transaction',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '42P01': 'undefined_table',
  '42703': 'undefined_column',
  '53100': 'disk_full',
  '53200': 'out_of_memory',
  '53300': 'too_many_connections',
  '54000': 'program_limit_exceeded',
  '55P03': 'lock_not_available',
  '57014': 'query_canceled',
  '57P01': 'admin_shutdown',
  '57P02': 'crash_shutdown',
  '57P03': 'cannot_connect_now',
  P0001: 'raise_exception',
  XX000: 'internal_error',
};

function field(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null
    ? (err as Record<string, unknown>)[name]
    : undefined;
}

/**
 * The SQLSTATE of a PostgreSQL error (node-postgres or PGlite), or undefined for anything else.
 * Node's own error codes (ECONNRESET, EPIPE) are not SQLSTATEs even when five letters long, so a
 * database error is recognised by also carrying a severity.
 */
export function sqlStateOf(err: unknown): string | undefined {
  const code = field(err, 'code');
  if (typeof code !== 'string' || !SQLSTATE_PATTERN.test(code)) return undefined;
  return field(err, 'severity') === undefined ? undefined : code;
}

/** The condition name of a SQLSTATE, or the SQLSTATE class when the code is not in the table. */
export function conditionName(sqlState: string): string {
  return CONDITION_NAMES[sqlState] ?? `sqlstate_class_${sqlState.slice(0, 2)}`;
}

/** A string field of an error object, if present. */
export function stringField(err: unknown, name: string): string | undefined {
  const value = field(err, name);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Which server-reported identifier an error field holds. */
export type IdentifierKind = 'table' | 'constraint' | 'column';

/**
 * The names PostgreSQL 18 gives the NOT NULL constraints of the tables this package creates
 * (`<table>_<column>_not_null`, now rows of pg_constraint), which a not-null violation reports.
 */
function notNullConstraintNames(): string[] {
  const own = [
    [TABLES.goals, COLUMNS.goals],
    [TABLES.runs, COLUMNS.runs],
    [TABLES.failures, COLUMNS.failures],
    [TABLES.sessionChanges, COLUMNS.sessionChanges],
  ] as const;
  return own.flatMap(([table, columns]) => columns.map((column) => `${table}_${column}_not_null`));
}

const KNOWN: Readonly<Record<IdentifierKind, ReadonlySet<string>>> = {
  table: new Set<string>(Object.values(TABLES)),
  constraint: new Set<string>([
    GOAL_DEDUP_INDEX,
    GOAL_LOOKUP_INDEX,
    SESSION_READ_INDEX,
    ...Object.values(INDEXES),
    ...Object.values(CONSTRAINTS),
    ...notNullConstraintNames(),
  ]),
  column: new Set<string>(Object.values(COLUMNS).flat()),
};

/**
 * Whether `name` is one this package chose itself (src/names.ts). A server error's identifier
 * fields can be set by any trigger (`RAISE … USING TABLE = …`) to a row's values, so only these
 * are repeated.
 */
export function isOwnIdentifier(kind: IdentifierKind, name: string): boolean {
  return KNOWN[kind].has(name);
}

/** An error reduced to what may be logged: a code and a message free of row values. */
export interface SafeErrorDescription {
  /** The SQLSTATE, Node's system error code, or this package's error code. */
  code: string | null;
  message: string;
}

/**
 * The identifier fields a message may name, each only when it holds one of this package's own
 * names. `schema` and `dataType` are never named: neither is this package's choice.
 */
const IDENTIFIER_FIELDS: readonly IdentifierKind[] = ['table', 'column', 'constraint'];

/**
 * Driver and pool messages that carry no row values. Knex prefixes a failed query's message
 * with the SQL and its bindings, so only these fixed phrases are ever copied out of a message.
 */
const KNOWN_DRIVER_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Timeout acquiring a connection',
  'connect ECONNREFUSED',
] as const;

/**
 * The table an undefined_table error names, which PostgreSQL puts only in its message
 * (`relation "app.therapy_sessions" does not exist`), without the schema. Its caller repeats it
 * only when it is one of this package's own names, as for the identifier fields.
 */
function missingRelation(err: unknown): string | undefined {
  if (sqlStateOf(err) !== '42P01') return undefined;
  const text = err instanceof Error ? err.message : stringField(err, 'message');
  const quoted = /relation "([^"]+)" does not exist/.exec(text ?? '')?.[1];
  return quoted?.split('.').at(-1);
}

/**
 * An error as log fields. `message` is not used as a field name because winston folds a
 * `message` field into the event name.
 */
export function errorLogFields(err: unknown): { errorCode: string | null; reason: string } {
  const { code, message } = describeErrorSafely(err);
  return { errorCode: code, reason: message };
}

/**
 * Describes an error without any value that came from a row. PostgreSQL messages and details
 * can quote row values (`Key (…)=(…)`, `DETAIL:`, a trigger's RAISE text), and a trigger can
 * set every identifier field too, so database errors are rebuilt from their SQLSTATE and those
 * reported identifiers that are this package's own names, never from the server's text. This
 * package's own errors carry only ids and counts and pass through.
 */
export function describeErrorSafely(err: unknown): SafeErrorDescription {
  if (err instanceof GoalBackfillError) return { code: err.code, message: err.message };

  const sqlState = sqlStateOf(err);
  if (sqlState !== undefined) {
    const identifiers = IDENTIFIER_FIELDS.flatMap((name) => {
      const value = stringField(err, name) ?? (name === 'table' ? missingRelation(err) : undefined);
      return value !== undefined && isOwnIdentifier(name, value) ? [`${name} ${value}`] : [];
    });
    const where = identifiers.length > 0 ? ` (${identifiers.join(', ')})` : '';
    return { code: sqlState, message: `${conditionName(sqlState)}${where}` };
  }

  const systemCode = stringField(err, 'code');
  if (systemCode !== undefined && /^E[A-Z]+$/.test(systemCode)) {
    const syscall = stringField(err, 'syscall');
    return { code: systemCode, message: syscall ? `${systemCode} during ${syscall}` : systemCode };
  }

  const name = err instanceof Error ? err.name : typeof err;
  const text = err instanceof Error ? err.message : '';
  const known = KNOWN_DRIVER_MESSAGES.find((phrase) => text.includes(phrase));
  return { code: null, message: known ?? `unexpected ${name}` };
}

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

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  logger: Logger;
  /** Names the work in log events. */
  event: string;
  /** Milliseconds before the first retry; each later one doubles it, with jitter. @default 100 */
  baseDelayMs?: number;
  /** Called before retrying after a lost connection; without it, such errors are thrown. */
  reconnect?: () => Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `work`, and runs it again after a backoff when it fails with a transient error
 * (serialization failure, deadlock, lock timeout) or, when `reconnect` is given, a lost
 * connection. Any other error, or the last attempt's, is thrown as it is. `work` must be safe
 * to run twice: here it is always a whole transaction.
 */
export async function retryTransient<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const baseDelayMs = options.baseDelayMs ?? 100;
  let connectionLost = false;
  for (let attempt = 1; ; attempt += 1) {
    try {
      if (connectionLost) await options.reconnect?.();
      connectionLost = false;
      return await work();
    } catch (err) {
      const kind = databaseErrorKind(err);
      const retryable =
        kind === 'transient' || (kind === 'connection' && options.reconnect !== undefined);
      if (attempt >= options.maxAttempts || !retryable) throw err;
      const delayMs = Math.round(baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
      options.logger.warn(`${options.event}.retry`, {
        attempt,
        maxAttempts: options.maxAttempts,
        kind,
        ...errorLogFields(err),
        delayMs,
      });
      await sleep(delayMs);
      connectionLost = kind === 'connection';
    }
  }
}

/**
 * Runs clean-up that must not hide the error that is already on its way out (a dead
 * connection cannot release its lock, but PostgreSQL releases it anyway). Failures are logged.
 */
export async function bestEffort(
  logger: Logger,
  event: string,
  work: () => Promise<unknown>,
): Promise<void> {
  try {
    await work();
  } catch (err) {
    logger.warn(`${event}_failed`, errorLogFields(err));
  }
}

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

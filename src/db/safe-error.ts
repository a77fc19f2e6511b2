import { GoalBackfillError } from '../errors/goal-backfill-error';
import { type IdentifierKind, isOwnIdentifier } from './known-identifiers';
import { conditionName, sqlStateOf, stringField } from './sqlstate';

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

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

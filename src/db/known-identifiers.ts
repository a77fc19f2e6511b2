// The names are spelled out here, not imported from src/schema, because db sits below schema.
// test/db/known-identifiers.test.ts checks them against a migrated database and src/schema.

/** The tables this package reads and writes (src/schema/tables.ts). */
const OWN_TABLES = [
  'users',
  'therapy_sessions',
  'treatment_goals',
  'goal_backfill_runs',
  'goal_backfill_failures',
  'goal_backfill_session_changes',
] as const;

/**
 * The constraints and indexes this package creates (src/schema/goal-schema.ts; Knex names the
 * keys `<table>_pkey` and `<table>_<column>_foreign`). test/db/known-identifiers.test.ts checks
 * this list against a migrated database.
 */
const OWN_CONSTRAINTS_AND_INDEXES = [
  'treatment_goals_patient_description_key',
  'treatment_goals_patient_description_idx',
  'therapy_sessions_patient_date_id_idx',
  'treatment_goals_pkey',
  'treatment_goals_status_check',
  'treatment_goals_origin_check',
  'treatment_goals_backfill_provenance_check',
  'treatment_goals_patient_id_foreign',
  'treatment_goals_therapist_id_foreign',
  'treatment_goals_session_id_foreign',
  'treatment_goals_session_idx',
  'goal_backfill_runs_pkey',
  'goal_backfill_runs_invoked_by_check',
  'goal_backfill_runs_status_check',
  'goal_backfill_runs_status_started_idx',
  'goal_backfill_failures_pkey',
  'goal_backfill_failures_run_id_foreign',
  'goal_backfill_failures_run_idx',
  'goal_backfill_failures_session_idx',
  'goal_backfill_session_changes_pkey',
  'goal_backfill_session_changes_session_idx',
] as const;

/** The columns of the tables this package creates, and the session columns it reads. */
const OWN_COLUMNS = [
  'id',
  'patient_id',
  'therapist_id',
  'session_id',
  'session_date',
  'extracted_notes',
  'description',
  'category',
  'details',
  'status',
  'created_at',
  'updated_at',
  'origin',
  'backfill_run_id',
  'source_item_index',
  'backfilled_at',
  'backfill_fingerprint',
  'clinician_touched_at',
  'invoked_by',
  'runner',
  'batch_size',
  'started_at',
  'heartbeat_at',
  'finished_at',
  'resume_count',
  'read_pass',
  'cursor_patient_id',
  'cursor_session_date',
  'cursor_session_id',
  'counts',
  'elapsed_ms',
  'error_code',
  'error_message',
  'run_id',
  'sql_state',
  'message',
  'failed_at',
  'seq',
  'pass',
] as const;

/** Which server-reported identifier an error field holds. */
export type IdentifierKind = 'table' | 'constraint' | 'column';

const KNOWN: Readonly<Record<IdentifierKind, ReadonlySet<string>>> = {
  table: new Set<string>(OWN_TABLES),
  constraint: new Set<string>(OWN_CONSTRAINTS_AND_INDEXES),
  column: new Set<string>(OWN_COLUMNS),
};

/**
 * Whether `name` is one this package chose itself. A server error's identifier fields can be
 * set by any trigger (`RAISE … USING TABLE = …`) to a row's values, so only these are repeated.
 */
export function isOwnIdentifier(kind: IdentifierKind, name: string): boolean {
  return KNOWN[kind].has(name);
}

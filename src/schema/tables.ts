/** The tables this package reads and writes. */
export const TABLES = {
  users: 'users',
  sessions: 'therapy_sessions',
  goals: 'treatment_goals',
  runs: 'goal_backfill_runs',
  failures: 'goal_backfill_failures',
  /** The sessions the app wrote while a run was going (src/schema/session-change-capture.ts). */
  sessionChanges: 'goal_backfill_session_changes',
} as const;

/** The index that reads sessions in backfill order: patient, then date, then id. */
export const SESSION_READ_INDEX = 'therapy_sessions_patient_date_id_idx';

/** The unique index that holds one goal per (patient_id, description). */
export const GOAL_DEDUP_INDEX = 'treatment_goals_patient_description_key';

/**
 * The immutable function that keys a description for deduplication: the SHA-256 of its UTF-8
 * bytes. A btree cannot index text longer than about 2,700 bytes, and no description may be
 * truncated, so the unique index holds this digest instead of the text.
 */
export const DESCRIPTION_KEY_FUNCTION = 'goal_description_key';

/**
 * The Knex migrations table of this project's own chain (its `knexfile.ts`). It is not Knex's
 * default `knex_migrations`, so that the chain can run against an app's database without
 * touching the app's migration history, and no app rollback reaches these migrations.
 */
export const CHAIN_MIGRATIONS_TABLE = 'goal_backfill_migrations';

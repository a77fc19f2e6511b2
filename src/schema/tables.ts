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

/**
 * The unique index on (patient_id, description key) that goal-backfill 0.1.0 built on the
 * treatment_goals it created. It made the backfill's dedup rule the app's too; migration
 * 20261101000001_treatment_goals_dedup_rule drops it.
 */
export const GOAL_DEDUP_INDEX = 'treatment_goals_patient_description_key';

/**
 * The index the backfill's dedup check reads: (patient_id, description key), not unique, so
 * the app may enter a goal whose text a patient already has.
 */
export const GOAL_LOOKUP_INDEX = 'treatment_goals_patient_description_idx';

/**
 * The immutable function that keys a description for deduplication: the SHA-256 of its UTF-8
 * bytes. A btree cannot index text longer than about 2,700 bytes, and no description may be
 * truncated, so the lookup index holds this digest instead of the text.
 */
export const DESCRIPTION_KEY_FUNCTION = 'goal_description_key';

/**
 * The Knex migrations table of this project's own chain (its `knexfile.ts`). It is not Knex's
 * default `knex_migrations`, so that the chain can run against an app's database without
 * touching the app's migration history, and no app rollback reaches these migrations.
 */
export const CHAIN_MIGRATIONS_TABLE = 'goal_backfill_migrations';

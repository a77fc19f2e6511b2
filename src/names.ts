/**
 * The one source of the names this package gives the database (tables, columns, indexes,
 * constraints, functions, triggers) and of the vocabularies its checks enforce. It imports
 * nothing, so every layer reads it: the schema creates what it names, and db/failures.ts repeats
 * in an error only the names listed here.
 */

/** The tables this package reads and writes. */
export const TABLES = {
  users: 'users',
  sessions: 'therapy_sessions',
  goals: 'treatment_goals',
  runs: 'goal_backfill_runs',
  failures: 'goal_backfill_failures',
  /** The sessions the app wrote while a run was going (src/schema/change-tracking.ts). */
  sessionChanges: 'goal_backfill_session_changes',
} as const;

/**
 * The Knex migrations table of this project's own chain (its `knexfile.ts`). It is not Knex's
 * default `knex_migrations`, so that the chain can run against an app's database without
 * touching the app's migration history, and no app rollback reaches these migrations.
 */
export const CHAIN_MIGRATIONS_TABLE = 'goal_backfill_migrations';

/** Knex's default migrations table, where an app's own chain keeps its history. */
export const KNEX_MIGRATIONS_TABLE = 'knex_migrations';

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

/** The other indexes of this package's tables (src/schema/goal-schema.ts, change capture). */
export const INDEXES = {
  goalSession: 'treatment_goals_session_idx',
  runStatusStarted: 'goal_backfill_runs_status_started_idx',
  failureRun: 'goal_backfill_failures_run_idx',
  failureSession: 'goal_backfill_failures_session_idx',
  sessionChangeSession: 'goal_backfill_session_changes_session_idx',
} as const;

/**
 * The constraints of this package's tables. Knex names the keys it makes `<table>_pkey` and
 * `<table>_<column>_foreign`; `origin_check` and `backfill_provenance_check` are those of the
 * treatment_goals that goal-backfill 0.1.0 created.
 */
export const CONSTRAINTS = {
  goalPrimaryKey: 'treatment_goals_pkey',
  goalStatus: 'treatment_goals_status_check',
  goalOrigin: 'treatment_goals_origin_check',
  goalProvenance: 'treatment_goals_backfill_provenance_check',
  goalPatient: 'treatment_goals_patient_id_foreign',
  goalTherapist: 'treatment_goals_therapist_id_foreign',
  goalSession: 'treatment_goals_session_id_foreign',
  runPrimaryKey: 'goal_backfill_runs_pkey',
  runInvokedBy: 'goal_backfill_runs_invoked_by_check',
  runStatus: 'goal_backfill_runs_status_check',
  failurePrimaryKey: 'goal_backfill_failures_pkey',
  failureRun: 'goal_backfill_failures_run_id_foreign',
  sessionChangePrimaryKey: 'goal_backfill_session_changes_pkey',
} as const;

/**
 * The constraints this package gives the app's tables when it creates them (a database without
 * the app's tables: src/schema/app-tables.ts). They are the app's names, not in
 * {@link CONSTRAINTS}, so db/failures.ts does not repeat them in an error.
 */
export const APP_CONSTRAINTS = {
  userRole: 'users_role_check',
} as const;

/**
 * The functions and triggers of goal change tracking (on treatment_goals) and session change
 * capture (on therapy_sessions); src/schema says what each does.
 */
export const ROUTINES = {
  goalFingerprintFunction: 'goal_clinical_fingerprint',
  goalTouchFunction: 'goal_mark_touched',
  goalTouchTrigger: 'treatment_goals_mark_touched',
  goalBaselineFunction: 'goal_backfill_baseline',
  goalBaselineTrigger: 'zz_treatment_goals_backfill_baseline',
  sessionCaptureFunction: 'goal_backfill_capture_session_change',
  sessionCaptureTrigger: 'goal_backfill_capture_session_change',
} as const;

/**
 * The provenance columns the backfill adds to treatment_goals, in the order it adds them
 * (src/schema/goal-table.ts gives their types). Goals the app writes leave them NULL;
 * src/schema/change-tracking.ts says what the last two hold.
 */
export const GOAL_PROVENANCE = {
  origin: 'origin',
  runId: 'backfill_run_id',
  itemIndex: 'source_item_index',
  backfilledAt: 'backfilled_at',
  touchedAt: 'clinician_touched_at',
  fingerprint: 'backfill_fingerprint',
} as const;

/** The columns of the tables this package creates, and the session columns it reads. */
export const COLUMNS = {
  sessions: ['id', 'patient_id', 'therapist_id', 'session_date', 'extracted_notes'],
  goals: [
    'id',
    'patient_id',
    'therapist_id',
    'session_id',
    'description',
    'category',
    'details',
    'status',
    'created_at',
    'updated_at',
    ...Object.values(GOAL_PROVENANCE),
  ],
  runs: [
    'id',
    'invoked_by',
    'status',
    'runner',
    'batch_size',
    'started_at',
    'heartbeat_at',
    'finished_at',
    'resume_count',
    'cursor_patient_id',
    'cursor_session_date',
    'cursor_session_id',
    'read_pass',
    'counts',
    'elapsed_ms',
    'error_code',
    'error_message',
  ],
  failures: ['id', 'run_id', 'session_id', 'patient_id', 'sql_state', 'message', 'failed_at'],
  sessionChanges: ['seq', 'session_id', 'pass'],
} as const;

// The goal vocabulary the schema's checks enforce.

/** The status every backfilled goal starts in. */
export const BACKFILLED_GOAL_STATUS = 'assigned';

/** The `origin` of goals the backfill creates. */
export const BACKFILL_ORIGIN = 'backfill';
/**
 * The `origin` of goals clinicians entered: clinical data, never deleted. The app leaves `origin`
 * NULL, which counts as this; a treatment_goals goal-backfill 0.1.0 created defaults it to this.
 */
export const CLINICIAN_ORIGIN = 'clinician';
/** The `origin` of the demo goals the seeds create in a local database: not clinical data. */
export const SEED_ORIGIN = 'seed';
/** Every `origin` a goal can have. */
export const GOAL_ORIGINS = [CLINICIAN_ORIGIN, BACKFILL_ORIGIN, SEED_ORIGIN] as const;
export type GoalOrigin = (typeof GOAL_ORIGINS)[number];

/** The goal statuses the app allows. */
export const GOAL_STATUSES = ['assigned', 'in_progress', 'completed', 'abandoned'] as const;

// The vocabulary of goal_backfill_runs that the schema's checks enforce.

/** Who started a run. */
export const INVOKERS = ['migration', 'cli', 'seed', 'library'] as const;
export type Invoker = (typeof INVOKERS)[number];

/**
 * Where a run stands.
 * - `running`: working now, or killed without a chance to say so (then no one holds the lock);
 * - `interrupted`: stopped on purpose or by an error, with its checkpoint kept for a resume;
 * - `succeeded`, `completed_with_errors`: finished; the checkpoint is cleared;
 * - `abandoned`: a checkpoint set aside by `--from-start`.
 */
export const RUN_STATUSES = [
  'running',
  'interrupted',
  'succeeded',
  'completed_with_errors',
  'abandoned',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * goal-backfill: the treatment_goals schema and its backfill from
 * therapy_sessions.extracted_notes, for a Knex migration chain. Every function takes the
 * caller's Knex instance (and logger) and closes nothing it was given.
 */

export type { BackfillCounts } from './backfill/rules';
export {
  DEFAULT_CATEGORY,
  INVALID_ITEM_REASONS,
  type InvalidItemReason,
  JS_TRIM_CHARACTERS,
  SESSION_SKIP_REASONS,
  type SessionSkipReason,
  UNPLACED_SESSION_REASONS,
  type UnplacedSessionReason,
} from './backfill/rules';
export { runBackfill } from './backfill/run';
export type { RunRecord } from './backfill/store';
export { type BackfillResult, MAX_LISTED_FAILURES } from './backfill/store';
export {
  AppSchemaIncompatibleError,
  type AppSchemaProblem,
  BackfillIncompleteError,
  BackfillLockedError,
  BackfillRunFailedError,
  BackfillUnverifiedError,
  ChangeCaptureBlockedError,
  ConfigError,
  DatabaseUnreachableError,
  EmbeddedDatabaseBusyError,
  EmbeddedStorageError,
  GoalBackfillError,
  GoalSchemaConflictError,
  type LockHolder,
  MigrationFailedError,
  type NameLookup,
  type PassShortfall,
  RollbackFailedError,
  SchemaChangeBlockedError,
  SchemaNotReadyError,
  type SessionFailure,
  TeardownRefusedError,
} from './errors';
export type { GoalCensus } from './goals';
export {
  assertTeardownAllowed,
  type GoalSchemaTeardown,
  TEARDOWN_OVERRIDE_VARIABLE,
  type TeardownOptions,
  teardownGoalSchema,
} from './goals';
export {
  type CreateLoggerOptions,
  createLogger,
  type FieldsFirstLogger,
  fieldsFirst,
  type KnexLogHooks,
  knexLogHooks,
  type LogFields,
  type LogFormat,
  type Logger,
  type LogLevel,
  silentLogger,
} from './logging';
export type { KnexMigration, MigrationOptions } from './migrations';
export { backfillMigration, dedupRuleMigration, goalSchemaMigration } from './migrations';
export {
  GOAL_ORIGINS,
  GOAL_STATUSES,
  type GoalOrigin,
  type Invoker,
  RUN_STATUSES,
  type RunStatus,
  TABLES,
} from './names';
export {
  BACKFILL_ENV_VARIABLES,
  type BackfillEnv,
  type BackfillOptions,
  type BackfillProgress,
  MAX_BATCH_SIZE,
  readBackfillEnv,
} from './options';
export { type RollbackOptions, type RollbackResult, rollbackBackfill } from './rollback';
export { assertAppSchemaCompatible } from './schema/app-tables';
export {
  createGoalSchema,
  type DedupIndexRestore,
  dropGoalDedupIndex,
  dropGoalSchema,
  restoreGoalDedupIndex,
} from './schema/goal-schema';
export { type DdlSettings, DEFAULT_DDL_SETTINGS } from './schema/lock-safe-ddl';
export { type BackfillStatus, getBackfillStatus, type StatusOptions } from './status';

/**
 * goal-backfill: the treatment_goals schema and its backfill from
 * therapy_sessions.extracted_notes, for a Knex migration chain. Every function takes the
 * caller's Knex instance (and logger) and closes nothing it was given.
 */

export {
  type BackfillOptions,
  type BackfillProgress,
  MAX_BATCH_SIZE,
} from './backfill/backfill-options';
export { type BackfillResult, MAX_LISTED_FAILURES } from './backfill/backfill-result';
export { DEFAULT_CATEGORY, JS_TRIM_CHARACTERS } from './backfill/goal-rules';
export { runBackfill } from './backfill/run-backfill';
export type { BackfillCounts } from './bookkeeping/backfill-counts';
export {
  INVALID_ITEM_REASONS,
  type InvalidItemReason,
  SESSION_SKIP_REASONS,
  type SessionSkipReason,
  UNPLACED_SESSION_REASONS,
  type UnplacedSessionReason,
} from './bookkeeping/count-reasons';
export type { SessionFailure } from './bookkeeping/failure-store';
export type { RunRecord } from './bookkeeping/run-record';
export { BACKFILL_ENV_VARIABLES, type BackfillEnv, readBackfillEnv } from './config/backfill-env';
export {
  AppSchemaIncompatibleError,
  type AppSchemaProblem,
} from './errors/app-schema-incompatible-error';
export { BackfillIncompleteError } from './errors/backfill-incomplete-error';
export { BackfillLockedError, type LockHolder } from './errors/backfill-locked-error';
export { BackfillRunFailedError } from './errors/backfill-run-failed-error';
export {
  BackfillUnverifiedError,
  type PassShortfall,
} from './errors/backfill-unverified-error';
export { ChangeCaptureBlockedError } from './errors/change-capture-blocked-error';
export { ConfigError } from './errors/config-error';
export { DatabaseUnreachableError } from './errors/database-unreachable-error';
export { EmbeddedDatabaseBusyError } from './errors/embedded-database-busy-error';
export { EmbeddedStorageError } from './errors/embedded-storage-error';
export { GoalBackfillError } from './errors/goal-backfill-error';
export { GoalSchemaConflictError } from './errors/goal-schema-conflict-error';
export { MigrationFailedError } from './errors/migration-failed-error';
export { RollbackFailedError } from './errors/rollback-failed-error';
export { SchemaChangeBlockedError } from './errors/schema-change-blocked-error';
export { type NameLookup, SchemaNotReadyError } from './errors/schema-not-ready-error';
export { TeardownRefusedError } from './errors/teardown-refused-error';
export type { GoalCensus } from './goals/goal-census';
export {
  assertTeardownAllowed,
  type GoalSchemaTeardown,
  TEARDOWN_OVERRIDE_VARIABLE,
  type TeardownOptions,
  teardownGoalSchema,
} from './goals/teardown-guard';
export {
  type CreateLoggerOptions,
  createLogger,
  type LogFormat,
  type LogLevel,
} from './logging/create-logger';
export { type KnexLogHooks, knexLogHooks } from './logging/knex-log-hooks';
export {
  type FieldsFirstLogger,
  fieldsFirst,
  type LogFields,
  type Logger,
  silentLogger,
} from './logging/logger';
export { backfillMigration } from './migrations/backfill-migration';
export { dedupRuleMigration } from './migrations/dedup-rule-migration';
export { goalSchemaMigration } from './migrations/goal-schema-migration';
export type { KnexMigration, MigrationOptions } from './migrations/safe-migration';
export {
  type RollbackOptions,
  type RollbackResult,
  rollbackBackfill,
} from './rollback/rollback-backfill';
export { assertAppSchemaCompatible } from './schema/assert-app-schema-compatible';
export {
  createGoalSchema,
  type DedupIndexRestore,
  dropGoalDedupIndex,
  dropGoalSchema,
  restoreGoalDedupIndex,
} from './schema/goal-schema';
export { GOAL_ORIGINS, GOAL_STATUSES, type GoalOrigin } from './schema/goal-vocabulary';
export { type DdlSettings, DEFAULT_DDL_SETTINGS } from './schema/lock-safe-ddl';
export { type Invoker, RUN_STATUSES, type RunStatus } from './schema/run-vocabulary';
export { TABLES } from './schema/tables';
export {
  type BackfillStatus,
  getBackfillStatus,
  type StatusOptions,
} from './status/backfill-status';

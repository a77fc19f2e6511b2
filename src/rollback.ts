import type { Knex } from 'knex';
import { describeLockHolderRun, runStore } from './backfill/store';
import { RunConnection } from './db/connection';
import { databaseErrorKind, describeErrorSafely, sqlStateOf } from './db/failures';
import { inSchema } from './db/schema-scope';
import type { SqlRunner } from './db/sql-runner';
import { toCount } from './db/sql-runner';
import { RollbackFailedError } from './errors';
import { goalProvenanceSql, takeGoalCensus } from './goals';
import type { Logger } from './logging';
import { TABLES } from './names';
import { checkedOptionsOf, type NumericOptions } from './options';
import { assertSchemaReady } from './schema/app-tables';
import { removeChangeCapture } from './schema/change-tracking';
import { type GoalTableMapping, readGoalTableMapping } from './schema/goal-table';

/** Options of {@link rollbackBackfill}. */
export interface RollbackOptions extends NumericOptions<'rollbackBackfill'> {
  knex: Knex;
  logger: Logger;
  /** Count what would be deleted and delete nothing. @default false */
  dryRun?: boolean;
  /** Also delete backfilled goals that clinicians have changed since. @default false */
  includeChanged?: boolean;
  /**
   * Stops the wait for the lock: once aborted before the lock is taken, the rollback deletes
   * nothing and throws {@link BackfillLockedError}. After that it finishes its batches.
   */
  signal?: AbortSignal;
  /**
   * The schema of treatment_goals and this package's tables; names resolve in it alone, as in
   * `runBackfill`. @default undefined (the connection's search_path)
   */
  schema?: string;
}

/**
 * What {@link rollbackBackfill} did, or in a dry run would do. The goals kept are counted in the
 * table after the last delete (in a dry run, when it counts), so edits made while the rollback
 * ran are in them.
 */
export interface RollbackResult {
  dryRun: boolean;
  includeChanged: boolean;
  /** Goals deleted (in a dry run, that would be). */
  deleted: number;
  /** Backfilled goals kept because clinicians changed them, left in the table. */
  keptChanged: number;
  /** Clinician-entered goals, which a rollback never touches, left in the table. */
  keptClinician: number;
  /** Unfinished runs whose checkpoints were dropped, so no later run resumes past deleted goals. */
  checkpointsAbandoned: number;
  elapsedMs: number;
}

/** How far the deletes got: what committed, and whether a batch's DELETE is under way. */
interface DeleteProgress {
  deleted: number;
  inFlight: boolean;
}

/**
 * Deletes the backfilled goals matching `condition` in batches by the table's primary key, so
 * no statement runs long. Each batch walks the next `batchSize` backfilled goals in key order, and the
 * DELETE checks `condition` on its own target row: when an app edit commits while the DELETE
 * waits for that row, READ COMMITTED re-checks the target row's conditions against the new
 * version, so the edited goal is skipped, not deleted. The batches advance by the last id
 * walked, so skipped goals do not end the loop early, and the condition (a digest per row) is
 * computed once per goal, never over the whole table for each batch. Each batch is a statement
 * of its own, committed when it returns: `progress` counts those, for an error part-way.
 */
async function deleteInBatches(
  db: SqlRunner,
  table: GoalTableMapping,
  condition: string,
  batchSize: number,
  logger: Logger,
  progress: DeleteProgress,
): Promise<void> {
  const key = `"${table.key.column.replaceAll('"', '""')}"`;
  const { type } = table.key;
  const { anyBackfill } = goalProvenanceSql(table);
  let afterId: string | null = null;
  for (;;) {
    const after: string = afterId === null ? '' : `AND ${key} > CAST(? AS ${type})`;
    progress.inFlight = true;
    const rows: { selected: unknown; deleted: unknown; last_id: string | null }[] = await db.rows(
      `WITH batch AS (
         SELECT ${key} AS batch_key FROM ${TABLES.goals}
          WHERE ${anyBackfill} ${after}
          ORDER BY ${key} LIMIT ?),
       gone AS (
         DELETE FROM ${TABLES.goals} WHERE ${key} IN (SELECT batch_key FROM batch) AND ${condition}
         RETURNING 1)
       SELECT (SELECT count(*) FROM batch) AS selected, (SELECT count(*) FROM gone) AS deleted,
              (SELECT CAST(batch_key AS text) FROM batch ORDER BY batch_key DESC LIMIT 1) AS last_id`,
      afterId === null ? [batchSize] : [afterId, batchSize],
    );
    progress.inFlight = false;
    const [row] = rows;
    const batchDeleted = toCount(row?.deleted);
    progress.deleted += batchDeleted;
    logger.debug('rollback.batch', { deleted: batchDeleted, totalDeleted: progress.deleted });
    if (toCount(row?.selected) < batchSize || !row?.last_id) return;
    afterId = row.last_id;
  }
}

/**
 * What stopped a rollback part-way, with how many goals its committed batches deleted. A batch
 * the server answered with an error was rolled back whole; one whose connection was lost may
 * have committed first, which no one can tell, so it counts as "up to" its size. Nothing is
 * logged here: the caller prints the error, and one line says it all.
 */
function rollbackFailed(
  err: unknown,
  progress: DeleteProgress,
  batchSize: number,
): RollbackFailedError {
  const safe = describeErrorSafely(err);
  const answered = sqlStateOf(err) !== undefined && databaseErrorKind(err) !== 'connection';
  const maybeDeleted = progress.inFlight && !answered ? batchSize : 0;
  return new RollbackFailedError(progress.deleted, maybeDeleted, safe, { cause: err });
}

/**
 * The deletes of a real rollback, and what they left. The goals kept are counted after the
 * last delete, never before the first: an edit committed while the rollback runs turns a goal
 * it would have deleted into one it keeps, and the figures must be the table's as the next
 * process finds it. Anything that stops it part-way becomes a {@link RollbackFailedError}.
 */
async function deleteAndCount(
  db: SqlRunner,
  table: GoalTableMapping,
  includeChanged: boolean,
  batchSize: number,
  logger: Logger,
): Promise<RollbackResult> {
  const progress: DeleteProgress = { deleted: 0, inFlight: false };
  try {
    const checkpointsAbandoned = await runStore.abandonUnfinished(db);
    // The runs are gone, so is what recorded the app's writes for them.
    await removeChangeCapture(db).catch((err: unknown) => {
      if (sqlStateOf(err) !== '55P03') throw err;
      logger.warn('rollback.capture_trigger_kept', { reason: 'lock_timeout' });
    });
    const provenance = goalProvenanceSql(table);
    const condition = includeChanged ? provenance.anyBackfill : provenance.unchangedBackfill;
    await deleteInBatches(db, table, condition, batchSize, logger, progress);
    const after = await takeGoalCensus(db, table);
    return {
      dryRun: false,
      includeChanged,
      deleted: progress.deleted,
      keptChanged: after.changedBackfill,
      keptClinician: after.clinician,
      checkpointsAbandoned,
      elapsedMs: 0,
    };
  } catch (err) {
    throw rollbackFailed(err, progress, batchSize);
  }
}

/**
 * Deletes the goals the backfill created and nobody has changed since, in batches by id.
 * Clinician-entered goals always stay; changed backfilled goals stay unless `includeChanged`.
 * Holds the backfill lock, so it never races a run. Throws {@link RollbackFailedError} when an
 * error stops it part-way, with how many goals it had deleted (they stay deleted; a rerun
 * deletes the rest).
 */
export async function rollbackBackfill(options: RollbackOptions): Promise<RollbackResult> {
  const numeric = checkedOptionsOf('rollbackBackfill', options);
  return inSchema(options.knex, options.schema ?? null, (knex) =>
    rollback({ ...options, knex }, numeric),
  );
}

/**
 * {@link rollbackBackfill} on a Knex whose connections resolve names where it works, with its
 * numeric options checked and defaulted.
 */
async function rollback(
  options: RollbackOptions,
  numeric: Required<NumericOptions<'rollbackBackfill'>>,
): Promise<RollbackResult> {
  const { knex, logger, dryRun = false, includeChanged = false } = options;
  const { batchSize, statementTimeoutMs, lockTimeoutMs, lockWaitMs } = numeric;
  const startedAt = performance.now();
  const connection = await RunConnection.open(knex, {
    logger,
    beforeLock: assertSchemaReady,
    settings: {
      statementTimeoutMs,
      lockTimeoutMs,
      applicationName: 'goal-backfill rollback',
    },
    lock: {
      waitMs: lockWaitMs,
      signal: options.signal,
      describeHolder: describeLockHolderRun,
    },
  });
  try {
    const { db } = connection;
    // Read once: the census before, the deletes and the census after all use this mapping.
    const table = await readGoalTableMapping(db);
    const before = await takeGoalCensus(db, table);
    if (includeChanged && before.changedBackfill > 0) {
      logger.warn('rollback.include_changed', { changedGoals: before.changedBackfill, dryRun });
    }
    const result: RollbackResult = dryRun
      ? {
          dryRun,
          includeChanged,
          deleted: before.unchangedBackfill + (includeChanged ? before.changedBackfill : 0),
          keptChanged: includeChanged ? 0 : before.changedBackfill,
          keptClinician: before.clinician,
          checkpointsAbandoned: 0,
          elapsedMs: 0,
        }
      : await deleteAndCount(db, table, includeChanged, batchSize, logger);
    result.elapsedMs = Math.round(performance.now() - startedAt);
    logger.info('rollback.finish', { ...result });
    return result;
  } finally {
    await connection.close();
  }
}

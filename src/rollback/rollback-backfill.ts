import type { Knex } from 'knex';
import { bestEffort } from '../backfill/best-effort';
import { runStore } from '../bookkeeping/run-store';
import { acquireBackfillLock, releaseBackfillLock } from '../db/advisory-lock';
import { withPinnedConnection } from '../db/pinned-connection';
import { ConfigError } from '../errors/config-error';
import { takeGoalCensus } from '../goals/goal-census';
import { GOAL_PROVENANCE_SQL } from '../goals/goal-provenance';
import type { Logger } from '../logging/logger';
import { assertSchemaReady } from '../schema/assert-schema-ready';
import { TABLES } from '../schema/tables';

/** Options of {@link rollbackBackfill}. */
export interface RollbackOptions {
  knex: Knex;
  logger: Logger;
  /** Count what would be deleted and delete nothing. @default false */
  dryRun?: boolean;
  /** Also delete backfilled goals that clinicians have changed since. @default false */
  includeChanged?: boolean;
  /** Goals deleted per statement. @default 5000 */
  batchSize?: number;
  /** How long to wait for a running backfill to release the lock. @default 0 */
  lockWaitMs?: number;
}

/** What {@link rollbackBackfill} did, or in a dry run would do. */
export interface RollbackResult {
  dryRun: boolean;
  includeChanged: boolean;
  /** Goals deleted (in a dry run, that would be). */
  deleted: number;
  /** Backfilled goals kept because clinicians changed them. */
  keptChanged: number;
  /** Clinician-entered goals, which a rollback never touches. */
  keptClinician: number;
  /** Unfinished runs whose checkpoints were dropped, so no later run resumes past deleted goals. */
  checkpointsAbandoned: number;
  elapsedMs: number;
}

function validate(options: RollbackOptions): void {
  const { batchSize, lockWaitMs } = options;
  const problems: string[] = [];
  if (
    batchSize !== undefined &&
    (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000)
  ) {
    problems.push(`batchSize must be a whole number from 1 to 100000 (got ${String(batchSize)})`);
  }
  if (lockWaitMs !== undefined && (!Number.isInteger(lockWaitMs) || lockWaitMs < 0)) {
    problems.push(
      `lockWaitMs must be a whole number of milliseconds, 0 or more (got ${String(lockWaitMs)})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * Deletes the goals the backfill created and nobody has changed since, in batches by id.
 * Clinician-entered goals always stay; changed backfilled goals stay unless `includeChanged`.
 * Holds the backfill lock, so it never races a run.
 */
export async function rollbackBackfill(options: RollbackOptions): Promise<RollbackResult> {
  validate(options);
  const { knex, logger, dryRun = false, includeChanged = false, batchSize = 5000 } = options;
  const startedAt = performance.now();
  return withPinnedConnection(knex, async (db) => {
    await assertSchemaReady(db);
    await acquireBackfillLock(db, {
      waitMs: options.lockWaitMs ?? 0,
      describeHolder: async () => {
        const run = await runStore.findRunning(db);
        return {
          runId: run?.id ?? null,
          invokedBy: run?.invokedBy ?? null,
          runner: run?.runner ?? null,
          startedAt: run?.startedAt ?? null,
        };
      },
    });
    try {
      const before = await takeGoalCensus(db);
      if (includeChanged && before.changedBackfill > 0) {
        logger.warn('rollback.include_changed', { changedGoals: before.changedBackfill, dryRun });
      }
      const doomed = includeChanged
        ? GOAL_PROVENANCE_SQL.anyBackfill
        : GOAL_PROVENANCE_SQL.unchangedBackfill;
      let deleted = 0;
      let checkpointsAbandoned = 0;
      if (dryRun) {
        deleted = before.unchangedBackfill + (includeChanged ? before.changedBackfill : 0);
      } else {
        checkpointsAbandoned = await runStore.abandonUnfinished(db);
        let afterId = '00000000-0000-0000-0000-000000000000';
        for (;;) {
          const rows = await db.rows<{ id: string }>(
            `DELETE FROM ${TABLES.goals} WHERE id IN (
               SELECT id FROM ${TABLES.goals} WHERE ${doomed} AND id > CAST(? AS uuid)
                ORDER BY id LIMIT ?)
             RETURNING id`,
            [afterId, batchSize],
          );
          if (rows.length === 0) break;
          deleted += rows.length;
          afterId =
            rows
              .map((row) => row.id)
              .sort()
              .at(-1) ?? afterId;
          logger.debug('rollback.batch', { deleted: rows.length, totalDeleted: deleted });
          if (rows.length < batchSize) break;
        }
      }
      const result: RollbackResult = {
        dryRun,
        includeChanged,
        deleted,
        keptChanged: includeChanged ? 0 : before.changedBackfill,
        keptClinician: before.clinician,
        checkpointsAbandoned,
        elapsedMs: Math.round(performance.now() - startedAt),
      };
      logger.info('rollback.finish', { ...result });
      return result;
    } finally {
      await bestEffort(logger, 'rollback.lock_release', () => releaseBackfillLock(db));
    }
  });
}

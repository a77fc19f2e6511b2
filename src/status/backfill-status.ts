import type { Knex } from 'knex';
import type { RunRecord } from '../bookkeeping/run-record';
import { runStore } from '../bookkeeping/run-store';
import { findLockHolderPid } from '../db/advisory-lock';
import { sqlRunner } from '../db/sql-runner';
import { type GoalCensus, takeGoalCensus } from '../goals/goal-census';
import { assertSchemaReady } from '../schema/assert-schema-ready';

/** Options of {@link getBackfillStatus}. */
export interface StatusOptions {
  knex: Knex;
  /** How many recent runs to list. @default 10 */
  limit?: number;
}

/** Where the backfill stands. */
export interface BackfillStatus {
  /** The newest runs first. Dry runs write nothing, so they never appear. */
  recentRuns: RunRecord[];
  goals: GoalCensus;
  /** The session holding the backfill lock now, if any. */
  lockHolder: { pid: number; applicationName: string | null } | null;
  /** A run that stopped early and will be resumed by the next run, or null. */
  resumableRun: RunRecord | null;
}

/** Reads the run history, the goal counts and the lock, without taking the lock. */
export async function getBackfillStatus(options: StatusOptions): Promise<BackfillStatus> {
  const db = sqlRunner(options.knex);
  await assertSchemaReady(db);
  const [recentRuns, goals, lockHolder, unfinished] = await Promise.all([
    runStore.recent(db, options.limit ?? 10),
    takeGoalCensus(db),
    findLockHolderPid(db),
    runStore.findResumable(db),
  ]);
  const resumableRun = lockHolder === null && unfinished?.checkpoint ? unfinished : null;
  return { recentRuns, goals, lockHolder, resumableRun };
}

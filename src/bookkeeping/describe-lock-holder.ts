import type { SqlRunner } from '../db/connection';
import type { LockHolder } from '../errors/backfill-locked-error';
import { runStore } from './run-store';

/** What goal_backfill_runs says about the run that holds the lock, for a lock error. */
export async function describeLockHolderRun(
  db: SqlRunner,
): Promise<Omit<LockHolder, 'pid' | 'applicationName'>> {
  const run = await runStore.findRunning(db);
  return {
    runId: run?.id ?? null,
    invokedBy: run?.invokedBy ?? null,
    runner: run?.runner ?? null,
    startedAt: run?.startedAt ?? null,
  };
}

import type { ResolvedBackfillOptions } from '../backfill/backfill-options';
import type { SqlRunner } from '../db/sql-runner';
import type { RunRecord } from '../bookkeeping/run-record';
import { runStore } from '../bookkeeping/run-store';

/**
 * Opens the run record of a real run: resumes the newest unfinished run that has a checkpoint
 * or a pass (the caller holds the lock, so any such run is orphaned), or, with `fromStart` or when there
 * is none, abandons unfinished runs and starts a new one.
 */
export async function startOrResume(
  db: SqlRunner,
  options: ResolvedBackfillOptions,
): Promise<{ run: RunRecord; resumed: boolean }> {
  const { logger } = options;
  if (options.fromStart) {
    const abandoned = await runStore.abandonUnfinished(db);
    if (abandoned > 0) logger.info('backfill.checkpoint_abandoned', { runs: abandoned });
  } else {
    const previous = await runStore.findResumable(db);
    if (previous?.checkpoint || previous?.pass) {
      await runStore.resume(db, previous.id, options.runner, options.batchSize);
      return { run: previous, resumed: true };
    }
    // A run that stopped before its first page has nothing to resume; close it and start over.
    if (previous) await runStore.abandonUnfinished(db);
  }
  const run = await runStore.start(db, options);
  return { run, resumed: false };
}

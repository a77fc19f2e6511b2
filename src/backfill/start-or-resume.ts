import type { ResolvedBackfillOptions } from '../backfill/backfill-options';
import { isCapturedPass } from '../bookkeeping/read-window';
import type { RunRecord } from '../bookkeeping/run-record';
import { runStore } from '../bookkeeping/run-store';
import type { SqlRunner } from '../db/connection';
import { SESSION_CHANGES } from '../schema/session-change-capture';

/**
 * Opens the run record of a real run: resumes the newest unfinished run that has a checkpoint
 * or a pass (the caller holds the lock, so any such run is orphaned), or, with `fromStart` or
 * when there is none, abandons unfinished runs and starts a new one.
 *
 * A resume needs every session written since that run started to have a change record, so it
 * needs capture to have been on throughout (`canResume`) and a pass saved by this version.
 * Otherwise the run starts over: the goals it wrote stay, and dedup skips them.
 */
export async function startOrResume(
  db: SqlRunner,
  options: ResolvedBackfillOptions,
  capture: { canResume: boolean },
): Promise<{ run: RunRecord; resumed: boolean }> {
  const { logger } = options;
  const previous = options.fromStart ? null : await runStore.findResumable(db);
  if (previous?.pass && isCapturedPass(previous.pass) && capture.canResume) {
    await runStore.resume(db, previous.id, options.runner, options.batchSize);
    return { run: previous, resumed: true };
  }
  const abandoned = await runStore.abandonUnfinished(db);
  if (abandoned > 0) {
    const reason = options.fromStart ? 'from_start' : previous?.pass ? 'capture_gap' : 'no_page';
    logger.info('backfill.checkpoint_abandoned', { runs: abandoned, reason });
  }
  // Records of an earlier run would take their sessions out of this run's first pass.
  await db.rows(`DELETE FROM ${SESSION_CHANGES.table}`);
  const run = await runStore.start(db, options);
  return { run, resumed: false };
}

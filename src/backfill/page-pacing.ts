import type { SqlRunner } from '../db/connection';
import type { ResolvedBackfillOptions } from './backfill-options';
import { strainBackOffs } from './strain-signals';
import { delayBeforeNextPage, pause } from './throttle';

/** Where a run stands when one of its connections finished a full page. */
export interface PacingPoint {
  runId: string | null;
  pass: number;
  /** Waiters on the page's locks, counted before it committed. */
  lockWaiters: number;
  /** Sessions this invocation has read, every worker together. */
  sessionsThisRun: number;
  elapsedMs: number;
  /** Runs a statement of the strain checks with the connection's retries. */
  retrying: <T>(work: () => Promise<T>, event: string) => Promise<T>;
}

/**
 * Waits before the connection's next page: the longest of the fixed throttle and of the
 * back-offs the strain signals ask for, each of which is logged with its reason. The checks run
 * on `connection.db` as it is at each attempt, so a retry after a reconnect uses the new one.
 */
export async function paceNextPage(
  connection: { readonly db: SqlRunner },
  options: ResolvedBackfillOptions,
  point: PacingPoint,
): Promise<void> {
  const { logger } = options;
  let delayMs = delayBeforeNextPage(options, point.sessionsThisRun, point.elapsedMs);
  const backOffs = await point.retrying(
    () => strainBackOffs(connection.db, options, point.lockWaiters, logger),
    'backfill.strain',
  );
  for (const backOff of backOffs) {
    logger.warn('backfill.backoff', { runId: point.runId, pass: point.pass, ...backOff });
    delayMs = Math.max(delayMs, backOff.delayMs);
  }
  await pause(delayMs, options.signal);
}

import type { BackfillResult } from '../../backfill/backfill-result';
import { EXIT_CODES } from '../exit-codes';
import type { Notices } from '../output/notices';

/** Tells the operator what a finished or stopped run means for them, and answers the exit code. */
export function concludeRun(
  result: BackfillResult,
  errorLogPath: string | null,
  notices: Notices,
): number {
  const done = `${result.sessionsProcessed} of ${result.totalSessions} sessions`;
  if (result.outcome === 'interrupted') {
    notices.warn(
      result.dryRun
        ? `dry run interrupted after ${done}; nothing was written`
        : `run ${result.runId ?? ''} interrupted after ${done}; its checkpoint is kept. ` +
            'Run `goal-backfill run` to resume it, or `goal-backfill run --from-start` to start over',
    );
    return EXIT_CODES.interrupted;
  }
  if (result.errors > 0) {
    const where =
      errorLogPath === null
        ? `their ids and error codes are in table goal_backfill_failures (run_id = '${result.runId ?? ''}')`
        : `their ids and error codes are in ${errorLogPath} and in table goal_backfill_failures (run_id = '${result.runId ?? ''}')`;
    notices.error(
      `${result.errors} session(s) failed and were rolled back; ${where}. ` +
        'Fix the cause, then run `goal-backfill run` again: it retries them and recreates nothing',
      'SESSIONS_FAILED',
    );
    return EXIT_CODES.failed;
  }
  return EXIT_CODES.ok;
}

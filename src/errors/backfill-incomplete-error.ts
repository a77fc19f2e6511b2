import { GoalBackfillError } from './goal-backfill-error';

/**
 * The backfill finished, but some sessions failed. The goals already written stay; running
 * the backfill again retries the failed sessions.
 */
export class BackfillIncompleteError extends GoalBackfillError {
  readonly code = 'INCOMPLETE';

  constructor(
    readonly failedSessions: number,
    readonly runId: string | null,
    options?: { cause?: unknown },
  ) {
    super(
      `${failedSessions} session(s) failed to backfill in run ${runId ?? '(dry run)'}; ` +
        `their ids and error codes are in table goal_backfill_failures (run_id = '${runId ?? ''}'). ` +
        'Fix the cause, then run `npx knex migrate:latest` again: it completes the rest',
      options,
    );
  }
}

import { GoalBackfillError } from './goal-backfill-error';

/**
 * An error stopped a run before it read every session. Its checkpoint is kept: running the
 * backfill again resumes after the last committed page.
 */
export class BackfillRunFailedError extends GoalBackfillError {
  readonly code = 'RUN_FAILED';

  constructor(
    readonly runId: string | null,
    readonly sessionsProcessed: number,
    readonly reason: { code: string | null; message: string },
    options?: { cause?: unknown },
  ) {
    super(
      `backfill run ${runId ?? '(dry run)'} stopped after ${sessionsProcessed} session(s): ` +
        `${reason.message}${reason.code ? ` [${reason.code}]` : ''}. ` +
        (runId ? 'Its checkpoint is kept: run the backfill again to resume' : 'Run it again'),
      options,
    );
  }
}

import { GoalBackfillError } from './goal-backfill-error';
import { describeLockHolders } from './lock-holders';

/**
 * A run could not start recording the sessions the app writes during it: transactions writing
 * therapy_sessions held the table through every try at its lock. Nothing was read or written.
 */
export class ChangeCaptureBlockedError extends GoalBackfillError {
  readonly code = 'CAPTURE_BLOCKED';

  constructor(
    /** The backends that held a write lock on therapy_sessions at the last try. */
    readonly blockingPids: readonly number[],
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    const who = describeLockHolders(blockingPids);
    super(
      `could not start recording session writes: ${who} kept therapy_sessions locked through ` +
        `${attempts} tries of lock_timeout; nothing was written. Rerun when they have finished, ` +
        'or raise --lock-timeout-ms',
      options,
    );
  }
}

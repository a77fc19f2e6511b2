import { GoalBackfillError } from './goal-backfill-error';
import { describeLockHolders } from './lock-holders';

/**
 * A schema change on a table the app writes could not take its lock within `lock_timeout`, in
 * any of its tries: other transactions held the table. What the migration had done before stays,
 * and running it again goes on from there.
 */
export class SchemaChangeBlockedError extends GoalBackfillError {
  readonly code = 'SCHEMA_CHANGE_BLOCKED';

  constructor(
    readonly table: string,
    /** The backends that held a lock on `table` at the last try. */
    readonly blockingPids: readonly number[],
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    const who = describeLockHolders(blockingPids);
    super(
      `could not change ${table}: ${who} kept it locked through ${attempts} tries of ` +
        'lock_timeout, so the change was not made and no write of the app waited on it; ' +
        'rerun the migration when they have finished, or raise GOAL_BACKFILL_LOCK_TIMEOUT_MS',
      options,
    );
  }
}

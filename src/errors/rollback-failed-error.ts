import { GoalBackfillError } from './goal-backfill-error';

/**
 * An error stopped a rollback part-way. Each batch deletes in a statement of its own, so the
 * goals of the batches before it stay deleted; running the rollback again deletes the rest.
 */
export class RollbackFailedError extends GoalBackfillError {
  readonly code = 'ROLLBACK_FAILED';

  constructor(
    /** Goals deleted by the batches that committed. */
    readonly deleted: number,
    /**
     * Goals of the batch in flight that may have been deleted too: when the connection was lost
     * (the server cannot say whether that batch committed) its size, otherwise 0.
     */
    readonly maybeDeleted: number,
    readonly reason: { code: string | null; message: string },
    options?: { cause?: unknown },
  ) {
    const more =
      maybeDeleted > 0
        ? ` (and up to ${maybeDeleted} more, if the batch in flight committed before the connection was lost)`
        : '';
    super(
      `rollback stopped after deleting ${deleted} backfilled goal(s)${more}: ` +
        `${reason.message}${reason.code ? ` [${reason.code}]` : ''}. ` +
        'Deleted goals stay deleted: run the rollback again to delete the rest',
      options,
    );
  }
}

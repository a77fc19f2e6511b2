import { GoalBackfillError } from './goal-backfill-error';

/** What a pass read against what the table held in its window, when they disagree. */
export interface PassShortfall {
  /**
   * 0 for the pass over what existed at the start; 1, 2, … for the catch-up passes; `all` for
   * the last check, over every pass at once.
   */
  pass: number | 'all';
  /** Sessions in the pass's window that have a key: all of them should have been read. */
  expected: number;
  /** Sessions the pass read. */
  read: number;
  /** Sessions of the window that lie after the pass's last key, outside every page it read. */
  beyondLastPage: number;
}

/**
 * A run read every page, but checking its reads against the table showed sessions it did not
 * read, so it does not report completed. Its goals stay; its checkpoint is cleared, so the next
 * run starts over and (being idempotent) completes the rest.
 */
export class BackfillUnverifiedError extends GoalBackfillError {
  readonly code = 'UNVERIFIED';

  constructor(
    readonly runId: string | null,
    readonly shortfall: PassShortfall,
    options?: { cause?: unknown },
  ) {
    super(
      `backfill run ${runId ?? '(dry run)'} is not complete: ` +
        `${shortfall.pass === 'all' ? 'its passes' : `pass ${shortfall.pass}`} read ` +
        `${shortfall.read} of ${shortfall.expected} session(s), ${shortfall.beyondLastPage} ` +
        'after its last page. The goals written stay; run the backfill again: it starts over ' +
        'and creates only what is missing',
      options,
    );
  }
}

import { GoalBackfillError } from './goal-backfill-error';

/** The command line cannot be used as typed. The message is one line saying what to fix. */
export class UsageError extends GoalBackfillError {
  readonly code = 'USAGE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

import { GoalBackfillError } from './goal-backfill-error';

/** The database could not be reached. The message names the target, never its password. */
export class DatabaseUnreachableError extends GoalBackfillError {
  readonly code = 'DATABASE_UNREACHABLE';

  constructor(
    readonly target: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot reach the database at ${target} (${reason}): check DATABASE_URL and that the server is up`,
      options,
    );
  }
}

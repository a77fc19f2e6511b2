import { GoalBackfillError } from './goal-backfill-error';

/**
 * What a migration or seed of this package throws to Knex in place of any error: a message
 * rebuilt from codes and ids only, and a one-line `stack`. The Knex CLI prints `err.stack`, and
 * a database error's own message and stack can quote row values (a trigger's RAISE text, a
 * `Key (…)=(…)` detail), so neither is passed on. `cause` keeps only the safe description.
 */
export class MigrationFailedError extends GoalBackfillError {
  readonly code = 'MIGRATION_FAILED';

  constructor(
    /** What failed, e.g. `migration 20261101000002_backfill_treatment_goals (down)`. */
    readonly step: string,
    /** The code of the error that stopped it: SQLSTATE, system code or this package's code. */
    readonly errorCode: string | null,
    reason: string,
  ) {
    super(`goal-backfill ${step} failed: ${reason}`, {
      cause: { code: errorCode, message: reason },
    });
    this.stack = `${this.name}: ${this.message}`;
  }
}

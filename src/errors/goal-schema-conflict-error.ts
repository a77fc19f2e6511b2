import { GoalBackfillError } from './goal-backfill-error';

/** A table this package would create already exists, and this package did not create it. */
export class GoalSchemaConflictError extends GoalBackfillError {
  readonly code = 'GOAL_SCHEMA_CONFLICT';

  constructor(readonly tables: readonly string[]) {
    super(
      `${tables.join(', ')} already exist(s) but goal-backfill did not create them, nothing was ` +
        'changed: rename or drop them yourself if they are not in use, then rerun the migration',
    );
  }
}

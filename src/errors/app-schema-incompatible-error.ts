import { GoalBackfillError } from './goal-backfill-error';

/** One column of the app's tables that the backfill cannot work with. */
export interface AppSchemaProblem {
  table: string;
  column: string;
  /** What is wrong and what to do, in words free of data: e.g. `is json; the backfill needs jsonb`. */
  problem: string;
}

/**
 * The app's existing `users` or `therapy_sessions` lack a column the backfill needs, or have it
 * with an incompatible type. Raised before anything is changed.
 */
export class AppSchemaIncompatibleError extends GoalBackfillError {
  readonly code = 'APP_SCHEMA_INCOMPATIBLE';

  constructor(readonly problems: readonly AppSchemaProblem[]) {
    super(
      `the app's tables do not fit the backfill, nothing was changed: ${problems
        .map(({ table, column, problem }) => `${table}.${column} ${problem}`)
        .join('; ')}`,
    );
  }
}

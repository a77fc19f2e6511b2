import { GoalBackfillError } from './goal-backfill-error';

/** The tables the backfill needs are missing: the migrations have not run yet. */
export class SchemaNotReadyError extends GoalBackfillError {
  readonly code = 'SCHEMA_NOT_READY';

  constructor(
    readonly missingTables: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(
      `missing table(s) ${missingTables.join(', ')}: run \`npx knex migrate:latest\` first`,
      options,
    );
  }
}

import { GoalBackfillError } from './goal-backfill-error';

/** Where PostgreSQL looked for a table's name: the search_path, and its schemas that exist. */
export interface NameLookup {
  /** The session's `search_path`, as set (`"$user", public`, `app`). */
  searchPath: string;
  /** The schemas of the search_path that exist, in order (`current_schemas(false)`). */
  schemas: readonly string[];
}

/** The schemas of `lookup`, as a message names them. */
function describeSchemas({ schemas }: NameLookup): string {
  if (schemas.length === 0) return 'any schema (none of the search_path exists)';
  const quoted = schemas.map((schema) => JSON.stringify(schema)).join(', ');
  return schemas.length === 1 ? `schema ${quoted}` : `schemas ${quoted}`;
}

/**
 * Tables the backfill needs are not where the connection looks for them. Either the app's
 * tables live in another schema than the search_path names (`appTablesMissing`: set the
 * schema), or this package's migrations have not run in this schema yet.
 */
export class SchemaNotReadyError extends GoalBackfillError {
  readonly code = 'SCHEMA_NOT_READY';

  constructor(
    readonly missingTables: readonly string[],
    readonly lookup: NameLookup,
    /** Whether the app's own users or therapy_sessions are among them. @default false */
    readonly appTablesMissing = false,
    options?: { cause?: unknown },
  ) {
    const next = appTablesMissing
      ? "set GOAL_BACKFILL_SCHEMA (--schema in the CLI) or the knexfile searchPath to the app's " +
        'schema, or run `npx knex migrate:latest` first'
      : 'run `npx knex migrate:latest` first, or set GOAL_BACKFILL_SCHEMA (--schema in the CLI) ' +
        'to the schema it migrated';
    super(
      `${missingTables.join(', ')} not found in ${describeSchemas(lookup)} ` +
        `(search_path ${lookup.searchPath}): ${next}`,
      options,
    );
  }
}

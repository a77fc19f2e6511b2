import type { SqlRunner } from '../db/sql-runner';
import { type NameLookup, SchemaNotReadyError } from '../errors/schema-not-ready-error';
import { TABLES } from './tables';

/** The app's own tables: a schema without them is the wrong one, or the app's chain is behind. */
const APP_TABLES: readonly string[] = [TABLES.users, TABLES.sessions];

/**
 * Throws {@link SchemaNotReadyError} unless every table of `names` resolves by the session's
 * search_path, naming the missing ones and where they were looked for.
 */
async function assertTablesPresent(db: SqlRunner, names: readonly string[]): Promise<void> {
  const [row] = await db.rows<{ missing: string[]; search_path: string; schemas: string[] }>(
    `SELECT coalesce((SELECT array_agg(name ORDER BY position)
                        FROM unnest(CAST(? AS text[])) WITH ORDINALITY AS t(name, position)
                       WHERE to_regclass(quote_ident(name)) IS NULL), '{}') AS missing,
            current_setting('search_path') AS search_path,
            CAST(current_schemas(false) AS text[]) AS schemas`,
    [names],
  );
  const missing = row?.missing ?? [];
  if (missing.length === 0) return;
  const lookup: NameLookup = { searchPath: row?.search_path ?? '', schemas: row?.schemas ?? [] };
  const app = missing.some((name) => APP_TABLES.includes(name));
  throw new SchemaNotReadyError(missing, lookup, app);
}

/** Throws {@link SchemaNotReadyError} unless every table the backfill uses exists. */
export function assertSchemaReady(db: SqlRunner): Promise<void> {
  return assertTablesPresent(db, [TABLES.sessions, TABLES.goals, TABLES.runs, TABLES.failures]);
}

/** Throws {@link SchemaNotReadyError} unless the app's users and therapy_sessions exist. */
export function assertAppTablesPresent(db: SqlRunner): Promise<void> {
  return assertTablesPresent(db, APP_TABLES);
}

import type { SqlRunner } from '../db/sql-runner';
import { SchemaNotReadyError } from '../errors/schema-not-ready-error';
import { TABLES } from './tables';

/** Throws {@link SchemaNotReadyError} unless every table the backfill uses exists. */
export async function assertSchemaReady(db: SqlRunner): Promise<void> {
  const names = [TABLES.sessions, TABLES.goals, TABLES.runs, TABLES.failures];
  const rows = await db.rows<{ name: string; present: boolean }>(
    `SELECT name, to_regclass(name) IS NOT NULL AS present
       FROM unnest(CAST(? AS text[])) AS t(name)`,
    [names],
  );
  const missing = rows.filter((row) => !row.present).map((row) => row.name);
  if (missing.length > 0) throw new SchemaNotReadyError(missing);
}

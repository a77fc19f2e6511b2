import type { SqlRunner } from '../db/sql-runner';

/**
 * The comment this package puts on every table and index it creates. Rollbacks and resets drop
 * an object only when it carries this mark, so nothing the app created (a `users` table that
 * existed before the chain, an index an operator built CONCURRENTLY) is ever dropped.
 */
export const OWNERSHIP_MARK = 'goal-backfill: created by this package; dropped by its rollback';

/** Relations that can carry the mark. */
export type OwnedRelationKind = 'TABLE' | 'INDEX';

/** Comments `name` as created by this package. Call it in the statement batch that creates it. */
export async function markOwned(
  db: SqlRunner,
  kind: OwnedRelationKind,
  name: string,
): Promise<void> {
  // COMMENT takes no bindings; the names come from this package's constants, the mark is fixed.
  await db.rows(`COMMENT ON ${kind} ${name} IS '${OWNERSHIP_MARK}'`);
}

/**
 * Comments the column `table.column` as added by this package: a rollback of the schema removes
 * from a table the app owns exactly the columns that carry the mark.
 */
export async function markColumnOwned(db: SqlRunner, table: string, column: string): Promise<void> {
  await db.rows(`COMMENT ON COLUMN ${table}.${column} IS '${OWNERSHIP_MARK}'`);
}

/** Comments the trigger `trigger` on `table` as created by this package. */
export async function markTriggerOwned(
  db: SqlRunner,
  trigger: string,
  table: string,
): Promise<void> {
  await db.rows(`COMMENT ON TRIGGER ${trigger} ON ${table} IS '${OWNERSHIP_MARK}'`);
}

/** What exists under `name` in the search path, and whether this package created it. */
export type RelationOwnership = 'missing' | 'ours' | 'theirs';

/** Looks up `name` (a table or index in the search path) and its mark. */
export async function relationOwnership(db: SqlRunner, name: string): Promise<RelationOwnership> {
  const [row] = await db.rows<{ present: boolean; comment: string | null }>(
    `SELECT to_regclass(?) IS NOT NULL AS present,
            obj_description(to_regclass(?), 'pg_class') AS comment`,
    [name, name],
  );
  if (!row?.present) return 'missing';
  return row.comment === OWNERSHIP_MARK ? 'ours' : 'theirs';
}

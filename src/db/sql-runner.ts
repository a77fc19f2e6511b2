import type { Knex } from 'knex';

/**
 * The rows of a `knex.raw` result. node-postgres answers `{ rows }`; other dialects may answer
 * an array. Both shapes are accepted so callers stay dialect-neutral.
 */
export function queryRows<Row>(result: unknown): Row[] {
  if (Array.isArray(result)) return result as Row[];
  if (typeof result === 'object' && result !== null && 'rows' in result) {
    return (result as { rows: Row[] }).rows;
  }
  return [];
}

/** A count from PostgreSQL, which node-postgres returns as a string for bigint and PGlite as a number or bigint. */
export function toCount(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') return Number(value);
  return 0;
}

/** Anything that runs one SQL statement with positional bindings and answers its rows. */
export interface SqlRunner {
  rows<Row>(sql: string, bindings?: readonly unknown[]): Promise<Row[]>;
}

/** A runner over a Knex instance or an open transaction. */
export function sqlRunner(db: Knex | Knex.Transaction): SqlRunner {
  return {
    async rows<Row>(sql: string, bindings: readonly unknown[] = []): Promise<Row[]> {
      return queryRows<Row>(await db.raw(sql, bindings as Knex.RawBinding[]));
    },
  };
}

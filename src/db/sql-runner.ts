import type { Knex } from 'knex';
import { queryRows } from './query-rows';

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

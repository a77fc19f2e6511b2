import type { Knex } from 'knex';
import { queryRows } from './query-rows';
import type { SqlRunner } from './sql-runner';

/**
 * One pooled connection held for the length of a backfill. Session settings, the advisory lock
 * and every statement of the run share it, so the lock dies with the connection and the run
 * needs a single connection from the pool (PGlite has only one).
 */
export class PinnedConnection implements SqlRunner {
  constructor(
    private readonly knex: Knex,
    private readonly connection: unknown,
  ) {}

  async rows<Row>(sql: string, bindings: readonly unknown[] = []): Promise<Row[]> {
    const query = this.knex.raw(sql, bindings as Knex.RawBinding[]).connection(this.connection);
    return queryRows<Row>(await query);
  }

  /** Runs `work` in a transaction on this connection; it commits when `work` resolves. */
  transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.knex.transaction(work, { connection: this.connection });
  }
}

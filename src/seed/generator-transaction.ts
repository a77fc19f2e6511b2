import type { Knex } from 'knex';
import { type SqlRunner, sqlRunner } from '../db/sql-runner';

/**
 * Runs one generating statement in its own transaction with JIT compilation off: the planner
 * cannot estimate generate_series over parameters, guesses billions of rows, and would spend
 * a second compiling a statement that then runs for milliseconds.
 */
export async function inGeneratorTransaction<Result>(
  knex: Knex,
  work: (db: SqlRunner) => Promise<Result>,
): Promise<Result> {
  return knex.transaction(async (trx) => {
    const db = sqlRunner(trx);
    await db.rows('SET LOCAL jit = off');
    return work(db);
  });
}

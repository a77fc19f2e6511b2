import type { SqlRunner } from '../db/sql-runner';
import { TABLES } from '../schema/tables';

/**
 * Empties every table the seeds fill, as Knex seeds conventionally do: goals, the backfill's
 * failures and runs, sessions and users, in one TRUNCATE (CASCADE also empties any app table
 * that references them). The schema and knex_migrations stay.
 */
export async function resetSeededTables(db: SqlRunner): Promise<void> {
  await db.rows(
    `TRUNCATE TABLE ${TABLES.goals}, ${TABLES.failures}, ${TABLES.runs}, ${TABLES.sessions}, ${TABLES.users}
       RESTART IDENTITY CASCADE`,
  );
}

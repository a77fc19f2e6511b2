import type { SqlRunner } from '../db/sql-runner';
import { TABLES } from '../schema/tables';
import { assertOnlySeededRows } from './seeded-rows';

/**
 * Deletes what an earlier seed run created, so a new run starts from the same rows: the goals
 * (demo and backfilled), the backfill's runs and failures, and the seeded sessions and users.
 * It first checks that users, therapy_sessions and treatment_goals hold nothing else, and
 * throws `SeedRefusedError` naming the counts if they do: the seeds never delete a row
 * they did not create. The schema and the migrations tables stay.
 */
export async function resetSeededTables(db: SqlRunner): Promise<void> {
  await assertOnlySeededRows(db);
  // Every row left is the seeds' own (checked above); DELETE rather than TRUNCATE … CASCADE,
  // which would also empty any app table that references these.
  await db.rows(`DELETE FROM ${TABLES.goals}`);
  await db.rows(`DELETE FROM ${TABLES.failures}`);
  await db.rows(`DELETE FROM ${TABLES.runs}`);
  await db.rows(`DELETE FROM ${TABLES.sessions}`);
  await db.rows(`DELETE FROM ${TABLES.users}`);
}

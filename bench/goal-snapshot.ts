import type { Knex } from 'knex';

const GOAL_COLUMNS =
  'patient_id, therapist_id, session_id, description, category, details, status, created_at, origin, source_item_index, backfill_fingerprint';

/** Keeps the backfilled goals of a run in a table, to compare another run with them. */
export async function snapshotGoals(knex: Knex, table: string): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS ${table}`);
  await knex.raw(
    `CREATE TABLE ${table} AS SELECT ${GOAL_COLUMNS} FROM treatment_goals WHERE origin = 'backfill'`,
  );
}

/** Goals present in one snapshot only, counting repeats: 0 when the two runs wrote the same goals. */
export async function countDifferences(knex: Knex, first: string, second: string): Promise<number> {
  const result = await knex.raw(
    `SELECT count(*) AS n FROM (
       (SELECT * FROM ${first} EXCEPT ALL SELECT * FROM ${second})
       UNION ALL
       (SELECT * FROM ${second} EXCEPT ALL SELECT * FROM ${first})
     ) AS difference`,
  );
  return Number(result.rows[0].n);
}

/**
 * Keeps aside the goals that were there before any backfill (those clinicians entered and the
 * seeds' own), so every repetition starts from the same table and meets the same conflicts.
 */
export async function keepClinicianGoals(knex: Knex): Promise<number> {
  await knex.raw('DROP TABLE IF EXISTS bench_clinician_goals');
  const result = await knex.raw(
    "CREATE TABLE bench_clinician_goals AS SELECT * FROM treatment_goals WHERE origin <> 'backfill'",
  );
  return Number(result.rowCount);
}

/** Empties the goals and the bookkeeping, then puts the goals kept aside back. */
export async function resetGoals(knex: Knex): Promise<void> {
  await knex.raw('TRUNCATE treatment_goals, goal_backfill_runs, goal_backfill_failures');
  await knex.raw('INSERT INTO treatment_goals SELECT * FROM bench_clinician_goals');
  await knex.raw('VACUUM ANALYZE treatment_goals');
}

/** A digest of the backfilled goals, to compare runs in two databases. */
export async function goalDigest(knex: Knex, table = 'treatment_goals'): Promise<string> {
  const result = await knex.raw(
    `SELECT count(*) || ':' || coalesce(md5(string_agg(g::text, '|' ORDER BY g::text)), '') AS digest
       FROM (SELECT ${GOAL_COLUMNS.replace('status', 'CAST(status AS text) AS status')}
               FROM ${table} WHERE origin = 'backfill') g`,
  );
  return String(result.rows[0].digest);
}

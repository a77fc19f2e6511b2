import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { sqlStateOf } from '../../src/db/failures';
import { silentLogger } from '../../src/logging';
import { PROVENANCE_COLUMNS } from '../../src/schema/goal-table';
import { countOf } from '../seed/seeded-data';
import { completedMigrations } from '../support/app-database';
import { insertClinicianGoal, insertSessions, insertUsers } from '../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The dedup rule is the backfill's own: nothing in treatment_goals refuses a clinician's goal
 * whose text the patient already has, on a database this version migrated and, after
 * migration 20261101000001_treatment_goals_dedup_rule, on one goal-backfill 0.1.0 migrated.
 */

const DEDUP_MIGRATION = '20261101000001_treatment_goals_dedup_rule.ts';
const UNIQUE_INDEX = 'treatment_goals_patient_description_key';
const LOOKUP_INDEX = 'treatment_goals_patient_description_idx';

let db: TestDatabase;
let patient: string;

beforeEach(async () => {
  db = await createTestDatabase();
  await db.knex.migrate.up();
  [patient = ''] = await insertUsers(db.knex, 1, 'patient');
  await insertSessions(db.knex, [
    {
      patientId: patient,
      sessionDate: '2024-01-01T00:00:00Z',
      notes: { action_items: [{ task: 'Walk' }, { task: 'Read' }] },
    },
  ]);
  await db.knex.migrate.latest();
});

afterEach(async () => {
  await db.drop();
});

async function indexes(): Promise<Record<string, boolean>> {
  const { rows } = await db.knex.raw<{ rows: { name: string; valid: boolean }[] }>(
    `SELECT indexrelid::regclass::text AS name, indisvalid AS valid FROM pg_index
      WHERE indexrelid::regclass::text IN (?, ?)`,
    [UNIQUE_INDEX, LOOKUP_INDEX],
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.valid]));
}

async function goalsNamed(description: string): Promise<number> {
  return countOf(
    db.knex,
    `SELECT count(*) AS n FROM treatment_goals WHERE description = '${description}'`,
  );
}

/** Turns the database back into what goal-backfill 0.1.0 left: its unique index, no lookup index. */
async function asFirstVersionLeftIt(): Promise<void> {
  for (const { name } of PROVENANCE_COLUMNS) {
    await db.knex.raw(`COMMENT ON COLUMN treatment_goals.${name} IS NULL`);
  }
  await db.knex.raw(`UPDATE treatment_goals SET origin = 'clinician' WHERE origin IS NULL`);
  await db.knex.raw(`ALTER TABLE treatment_goals ALTER origin SET DEFAULT 'clinician'`);
  await db.knex.raw('ALTER TABLE treatment_goals ALTER origin SET NOT NULL');
  await db.knex.raw(
    `CREATE UNIQUE INDEX ${UNIQUE_INDEX} ON treatment_goals (patient_id, goal_description_key(description))`,
  );
  await db.knex.raw(`DROP INDEX ${LOOKUP_INDEX}`);
  await db.knex('goal_backfill_migrations').where({ name: DEDUP_MIGRATION }).delete();
}

describe('the dedup rule', () => {
  it('is the backfill’s alone: a clinician enters a goal the patient already has, and no run adds one', async () => {
    expect(await indexes()).toEqual({ [LOOKUP_INDEX]: true });
    await insertClinicianGoal(db.knex, { patientId: patient, description: 'Walk' });
    await insertClinicianGoal(db.knex, { patientId: patient, description: 'Walk' });
    expect(await goalsNamed('Walk')).toBe(3);

    const again = await runBackfill({ knex: db.knex, logger: silentLogger });
    expect(again).toMatchObject({ goalsCreated: 0, duplicatesSkipped: 2 });
    expect(await goalsNamed('Walk')).toBe(3);
  });

  it('on a database of goal-backfill 0.1.0: migrate:latest drops its unique index, and down puts it back while no text repeats', async () => {
    await asFirstVersionLeftIt();
    const refused = await insertClinicianGoal(db.knex, {
      patientId: patient,
      description: 'Walk',
    }).catch((e: unknown) => e);
    expect(sqlStateOf(refused)).toBe('23505');

    await db.knex.migrate.latest();
    expect(await completedMigrations(db.knex)).toContain(DEDUP_MIGRATION);
    expect(await indexes()).toEqual({ [LOOKUP_INDEX]: true });
    await insertClinicianGoal(db.knex, { patientId: patient, description: 'Read' });
    expect(await goalsNamed('Read')).toBe(2);

    // Down cannot bring the unique rule back while a text repeats: it changes nothing.
    await db.knex.migrate.rollback();
    expect(await completedMigrations(db.knex)).not.toContain(DEDUP_MIGRATION);
    expect(await indexes()).toEqual({ [LOOKUP_INDEX]: true });
    expect(await goalsNamed('Read')).toBe(2);

    await db.knex('treatment_goals').where({ description: 'Read', origin: 'clinician' }).delete();
    await db.knex.migrate.latest();
    await db.knex.migrate.rollback();
    expect(await indexes()).toEqual({ [LOOKUP_INDEX]: true, [UNIQUE_INDEX]: true });
    // The backfill runs on it as it did: nothing to add, nothing refused.
    expect(await runBackfill({ knex: db.knex, logger: silentLogger })).toMatchObject({
      goalsCreated: 0,
      errors: 0,
    });

    await db.knex.migrate.latest();
    expect(await indexes()).toEqual({ [LOOKUP_INDEX]: true });
  });
});

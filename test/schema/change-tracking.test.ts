import { beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { silentLogger } from '../../src/logging';
import { rollbackBackfill } from '../../src/rollback';
import {
  createGoalChangeTracking,
  dropGoalChangeTracking,
  GOAL_CHANGE_TRACKING,
} from '../../src/schema/change-tracking';
import { createGoalSchema, dropGoalSchema } from '../../src/schema/goal-schema';
import { CREATED_GOAL_TABLE } from '../../src/schema/goal-table';
import { DEFAULT_DDL_SETTINGS } from '../../src/schema/lock-safe-ddl';
import { insertClinicianGoal, insertSessions, insertUsers } from '../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';

let db: TestDatabase;
let backfilled: string;
let clinician: string;

useMigratedDatabase((created) => {
  db = created;
});

beforeEach(async () => {
  const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
  const [therapist = ''] = await insertUsers(db.knex, 1, 'therapist');
  await insertSessions(db.knex, [
    {
      patientId: patient,
      therapistId: therapist,
      sessionDate: '2024-01-01T00:00:00Z',
      notes: { action_items: [{ task: 'Walk', details: 'Once a day' }, { task: 'Read' }] },
    },
  ]);
  clinician = await insertClinicianGoal(db.knex, { patientId: patient, description: 'Mine' });
  await runBackfill({ knex: db.knex, logger: silentLogger });
  backfilled = (await db.knex('treatment_goals').where({ description: 'Walk' }).pluck('id'))[0];
});

const {
  touchedColumn,
  fingerprintColumn,
  fingerprintFunction,
  touchFunction,
  touchTrigger,
  baselineFunction,
  baselineTrigger,
} = GOAL_CHANGE_TRACKING;

async function trackingObjects(): Promise<{
  columns: number;
  functions: number;
  triggers: number;
}> {
  const result = await db.knex.raw<{ rows: Record<string, string | number>[] }>(
    `SELECT (SELECT count(*) FROM information_schema.columns
              WHERE table_name = 'treatment_goals' AND column_name IN (?, ?)) AS columns,
            (SELECT count(*) FROM pg_proc WHERE proname IN (?, ?, ?)) AS functions,
            (SELECT count(*) FROM pg_trigger WHERE tgname IN (?, ?)) AS triggers`,
    [
      touchedColumn,
      fingerprintColumn,
      fingerprintFunction,
      touchFunction,
      baselineFunction,
      touchTrigger,
      baselineTrigger,
    ],
  );
  const row = result.rows[0] ?? {};
  return {
    columns: Number(row.columns),
    functions: Number(row.functions),
    triggers: Number(row.triggers),
  };
}

async function tracking(id: string): Promise<{ touched: boolean; matches: boolean | null }> {
  const result = await db.knex.raw<{ rows: { touched: boolean; matches: boolean | null }[] }>(
    `SELECT ${touchedColumn} IS NOT NULL AS touched,
            ${fingerprintColumn} = ${fingerprintFunction}(description, category, details, status,
                                                        therapist_id, session_id) AS matches
       FROM treatment_goals WHERE id = ?`,
    [id],
  );
  const [row] = result.rows;
  if (!row) throw new Error(`goal ${id} is gone`);
  return row;
}

describe('goal change tracking', () => {
  it('the backfill stores the fingerprint of what it wrote; clinician goals have none', async () => {
    expect(await tracking(backfilled)).toEqual({ touched: false, matches: true });
    expect(await tracking(clinician)).toEqual({ touched: false, matches: null });
  });

  it.each([
    ['a change of details', { details: 'Twice a day' }],
    ['a no-op UPDATE', { description: 'Walk' }],
    ['an attempt to clear the marker', { [touchedColumn]: null }],
  ])('the trigger marks a backfilled goal touched on %s', async (_name, values) => {
    await db.knex('treatment_goals').where({ id: backfilled }).update(values);
    expect((await tracking(backfilled)).touched).toBe(true);
  });

  it('the trigger keeps the fingerprint when an UPDATE writes one', async () => {
    await db
      .knex('treatment_goals')
      .where({ id: backfilled })
      .update({
        details: 'Twice a day',
        [fingerprintColumn]: db.knex.raw(
          `${fingerprintFunction}(description, category, ?, status, therapist_id, session_id)`,
          ['Twice a day'],
        ),
      });
    expect(await tracking(backfilled)).toEqual({ touched: true, matches: false });
  });

  it('the trigger leaves clinician goals alone', async () => {
    await db.knex('treatment_goals').where({ id: clinician }).update({ details: 'x' });
    expect((await tracking(clinician)).touched).toBe(false);
  });

  it.each([
    ['text moved from one column to the next', ['ab', 'c', null], ['a', 'bc', null]],
    ['values shifted by one column', ['a', 'b', null], [null, 'a', 'b']],
    ['NULL and the empty string', ['a', 'b', null], ['a', 'b', '']],
    ['NULL and the text NULL', ['a', 'b', null], ['a', 'b', 'NULL']],
    ['a change of case', ['Walk', 'b', null], ['walk', 'b', null]],
  ])('the fingerprint tells apart %s', async (_name, left, right) => {
    const call = `${fingerprintFunction}(?, ?, ?, 'assigned', NULL, NULL)`;
    const result = await db.knex.raw<{ rows: { same: boolean }[] }>(
      `SELECT ${call} = ${call} AS same`,
      [...left, ...right],
    );
    expect(result.rows[0]?.same).toBe(false);
  });

  it('the fingerprint function is inlined into the calling statement, so it stays cheap', async () => {
    const result = await db.knex.raw<{ rows: Record<string, string>[] }>(
      `EXPLAIN VERBOSE SELECT ${fingerprintFunction}(description, category, details, status,
                                                     therapist_id, session_id)
         FROM treatment_goals`,
    );
    const plan = result.rows.map((row) => Object.values(row).join(' ')).join('\n');
    expect(plan).toContain('hashtextextended');
    expect(plan).not.toContain(fingerprintFunction);
  });

  it('is idempotent, drops cleanly, and goes with the schema', async () => {
    expect(await trackingObjects()).toEqual({ columns: 2, functions: 3, triggers: 2 });
    await createGoalChangeTracking(db.knex, DEFAULT_DDL_SETTINGS, CREATED_GOAL_TABLE);
    expect(await trackingObjects()).toEqual({ columns: 2, functions: 3, triggers: 2 });
    expect(await tracking(backfilled)).toEqual({ touched: false, matches: true });

    // The columns are provenance, which goes with the schema; the triggers and functions go here.
    await dropGoalChangeTracking(db.knex, DEFAULT_DDL_SETTINGS);
    expect(await trackingObjects()).toEqual({ columns: 2, functions: 0, triggers: 0 });
    await dropGoalChangeTracking(db.knex, DEFAULT_DDL_SETTINGS);
    await createGoalChangeTracking(db.knex, DEFAULT_DDL_SETTINGS, CREATED_GOAL_TABLE);
    expect(await trackingObjects()).toEqual({ columns: 2, functions: 3, triggers: 2 });

    await db.knex.raw('TRUNCATE treatment_goals');
    await dropGoalSchema(db.knex);
    expect(await trackingObjects()).toEqual({ columns: 0, functions: 0, triggers: 0 });
    await createGoalSchema(db.knex);
    expect(await trackingObjects()).toEqual({ columns: 2, functions: 3, triggers: 2 });
  });

  it('refuses an app change of a clinical column while the baseline trigger is there; without it, backfill and rollback still hold', async () => {
    // The known limitation docs/operations.md describes ("The app cannot change a column").
    const refused = await db.knex
      .raw('ALTER TABLE treatment_goals ALTER COLUMN description TYPE varchar(300)')
      .catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: '0A000' });
    try {
      // Its workaround, as the app's migration would do it.
      await db.knex.raw(
        `DROP TRIGGER IF EXISTS ${GOAL_CHANGE_TRACKING.baselineTrigger} ON treatment_goals`,
      );
      await db.knex.raw('ALTER TABLE treatment_goals ALTER COLUMN description TYPE varchar(300)');
      const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
      await insertSessions(db.knex, [
        {
          patientId: patient,
          sessionDate: '2024-02-01T00:00:00Z',
          notes: { action_items: [{ task: 'Swim' }] },
        },
      ]);
      const run = await runBackfill({ knex: db.knex, logger: silentLogger });
      expect(run).toMatchObject({ outcome: 'completed', goalsCreated: 1 });
      const rollback = await rollbackBackfill({ knex: db.knex, logger: silentLogger });
      expect(rollback).toMatchObject({ deleted: 3, keptChanged: 0, keptClinician: 1 });
      expect(await db.knex('treatment_goals').pluck('id')).toEqual([clinician]);
    } finally {
      await db.knex.raw('ALTER TABLE treatment_goals ALTER COLUMN description TYPE text');
      await createGoalChangeTracking(db.knex, DEFAULT_DDL_SETTINGS, CREATED_GOAL_TABLE);
    }
    expect(await trackingObjects()).toEqual({ columns: 2, functions: 3, triggers: 2 });
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { sqlRunner } from '../../src/db/sql-runner';
import { silentLogger } from '../../src/logging';
import { rollbackBackfill } from '../../src/rollback';
import {
  createGoalChangeTracking,
  dropGoalChangeTracking,
  GOAL_CHANGE_TRACKING,
} from '../../src/schema/change-tracking';
import { createGoalSchema, dropGoalSchema } from '../../src/schema/goal-schema';
import { CREATED_GOAL_TABLE } from '../../src/schema/goal-table';
import { DEFAULT_DDL_SETTINGS, markTriggerOwned } from '../../src/schema/lock-safe-ddl';
import { insertClinicianGoal, insertSessions, insertUsers } from '../support/fixtures';
import { CapturingLogger } from '../support/capturing-logger';
import {
  knexFor,
  onPglite,
  type TestDatabase,
  useMigratedDatabase,
} from '../support/test-database';

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

  it("lets the app change a clinical column's type and drop one; the next run and rollback still hold", async () => {
    await db.knex.raw('ALTER TABLE treatment_goals ALTER COLUMN description TYPE varchar(300)');
    await db.knex.raw('ALTER TABLE treatment_goals DROP COLUMN details');
    try {
      const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
      await insertSessions(db.knex, [
        {
          patientId: patient,
          sessionDate: '2024-02-01T00:00:00Z',
          notes: { action_items: [{ task: 'Swim', details: 'Twice a week' }] },
        },
      ]);
      // An app trigger that adjusts what is inserted: the baseline must still follow it.
      await db.knex.raw(
        `CREATE FUNCTION app_goal_insert() RETURNS trigger LANGUAGE plpgsql
           AS $$ BEGIN NEW.category := upper(NEW.category); RETURN NEW; END $$`,
      );
      await db.knex.raw(
        `CREATE TRIGGER treatment_goals_app_insert BEFORE INSERT ON treatment_goals
           FOR EACH ROW EXECUTE FUNCTION app_goal_insert()`,
      );
      const run = await runBackfill({ knex: db.knex, logger: silentLogger });
      expect(run).toMatchObject({ outcome: 'completed', goalsCreated: 1, errors: 0 });
      const [swim] = await db
        .knex('treatment_goals')
        .where({ description: 'Swim' })
        .select('category');
      expect(swim).toEqual({ category: 'GENERAL' });
      // Dropping details took 'Walk's details away: a change, so that goal is kept; the others
      // ('Read' had none, 'Swim' came after) are unchanged and go.
      const rollback = await rollbackBackfill({ knex: db.knex, logger: silentLogger });
      expect(rollback).toMatchObject({ deleted: 2, keptChanged: 1, keptClinician: 1 });
      expect((await db.knex('treatment_goals').pluck('id')).sort()).toEqual(
        [clinician, backfilled].sort(),
      );
    } finally {
      await db.knex.raw('DROP TRIGGER IF EXISTS treatment_goals_app_insert ON treatment_goals');
      await db.knex.raw('DROP FUNCTION IF EXISTS app_goal_insert()');
      await db.knex.raw('ALTER TABLE treatment_goals ALTER COLUMN description TYPE text');
      await db.knex.raw('ALTER TABLE treatment_goals ADD COLUMN details text');
      await createGoalChangeTracking(db.knex, DEFAULT_DDL_SETTINGS, CREATED_GOAL_TABLE);
    }
    expect(await trackingObjects()).toEqual({ columns: 2, functions: 3, triggers: 2 });
  });

  it("replaces an earlier version's baseline trigger, whose condition read the app's columns", async () => {
    const { baselineTrigger, baselineFunction, fingerprintColumn, fingerprintFunction } =
      GOAL_CHANGE_TRACKING;
    // The trigger as versions before this one made it.
    const earlier = `CREATE TRIGGER ${baselineTrigger} BEFORE INSERT ON treatment_goals
      FOR EACH ROW WHEN (NEW.origin = 'backfill' AND (NEW.updated_at IS DISTINCT FROM NEW.backfilled_at
        OR NEW.${fingerprintColumn} IS DISTINCT FROM ${fingerprintFunction}(CAST(NEW.description AS text),
          CAST(NEW.category AS text), CAST(NEW.details AS text), CAST(NEW.status AS text),
          NEW.therapist_id, NEW.session_id)))
      EXECUTE FUNCTION ${baselineFunction}()`;
    const columnsRead = async () => {
      const { rows } = await db.knex.raw<{ rows: { n: number }[] }>(
        `SELECT count(*)::int AS n FROM pg_depend d JOIN pg_trigger t ON t.oid = d.objid
          WHERE d.classid = 'pg_trigger'::regclass AND t.tgname = ? AND d.refobjsubid > 0`,
        [baselineTrigger],
      );
      return rows[0]?.n;
    };
    // Only the provenance column origin.
    expect(await columnsRead()).toBe(1);

    // By the chain's migration (createGoalChangeTracking), and by a run's start.
    for (const replace of ['migration', 'run'] as const) {
      await db.knex.raw(`DROP TRIGGER ${baselineTrigger} ON treatment_goals`);
      await db.knex.raw(earlier);
      await markTriggerOwned(sqlRunner(db.knex), baselineTrigger, 'treatment_goals');
      // origin, backfilled_at and the fingerprint, and the seven columns of the app's.
      expect(await columnsRead()).toBe(10);
      const refused = await db.knex
        .raw('ALTER TABLE treatment_goals ALTER COLUMN category TYPE varchar(100)')
        .catch((err: unknown) => err);
      expect(refused).toMatchObject({ code: '0A000' });
      if (replace === 'migration') {
        await createGoalChangeTracking(db.knex, DEFAULT_DDL_SETTINGS, CREATED_GOAL_TABLE);
      } else {
        const run = await runBackfill({ knex: db.knex, logger: silentLogger });
        expect(run.outcome).toBe('completed');
      }
      expect(await columnsRead()).toBe(1);
      expect(await trackingObjects()).toEqual({ columns: 2, functions: 3, triggers: 2 });
      await db.knex.raw('ALTER TABLE treatment_goals ALTER COLUMN category TYPE varchar(100)');
      await db.knex.raw('ALTER TABLE treatment_goals ALTER COLUMN category TYPE text');
    }
  });

  it.skipIf(onPglite)(
    "keeps an earlier version's trigger while the app's reads hold the table, and says so; the run completes",
    async () => {
      const { baselineTrigger, baselineFunction, fingerprintColumn, fingerprintFunction } =
        GOAL_CHANGE_TRACKING;
      await db.knex.raw(`DROP TRIGGER ${baselineTrigger} ON treatment_goals`);
      await db.knex.raw(
        `CREATE TRIGGER ${baselineTrigger} BEFORE INSERT ON treatment_goals
           FOR EACH ROW WHEN (NEW.origin = 'backfill' AND NEW.${fingerprintColumn} IS DISTINCT FROM
             ${fingerprintFunction}(CAST(NEW.description AS text), NULL, NULL, NULL, NULL, NULL))
           EXECUTE FUNCTION ${baselineFunction}()`,
      );
      await markTriggerOwned(sqlRunner(db.knex), baselineTrigger, 'treatment_goals');
      const app = knexFor(db.url, 1);
      try {
        // A long report of the app's: its ACCESS SHARE lock lets inserts through, not DROP TRIGGER.
        await app.transaction(async (report) => {
          await report.raw('SELECT count(*) FROM treatment_goals');
          const logger = new CapturingLogger();
          const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
          await insertSessions(db.knex, [
            {
              patientId: patient,
              sessionDate: '2024-03-01T00:00:00Z',
              notes: { action_items: [{ task: 'Nap' }] },
            },
          ]);
          const run = await runBackfill({ knex: db.knex, logger, lockTimeoutMs: 200 });
          expect(run).toMatchObject({ outcome: 'completed', goalsCreated: 1 });
          expect(logger.named('backfill.baseline_trigger_kept')).toEqual([
            {
              level: 'warn',
              event: 'backfill.baseline_trigger_kept',
              fields: { reason: 'lock_timeout' },
            },
          ]);
        });
        const logger = new CapturingLogger();
        await runBackfill({ knex: db.knex, logger });
        expect(logger.named('backfill.baseline_trigger_replaced')).toHaveLength(1);
        expect(await trackingObjects()).toEqual({ columns: 2, functions: 3, triggers: 2 });
        await db.knex.raw('ALTER TABLE treatment_goals ALTER COLUMN category TYPE varchar(100)');
        await db.knex.raw('ALTER TABLE treatment_goals ALTER COLUMN category TYPE text');
      } finally {
        await app.destroy();
      }
    },
  );

  it('leaves a trigger of that name alone when it does not carry the package mark', async () => {
    const { baselineTrigger, baselineFunction } = GOAL_CHANGE_TRACKING;
    await db.knex.raw(`DROP TRIGGER ${baselineTrigger} ON treatment_goals`);
    // Someone else's trigger, of the same name, reading a column of the app's.
    await db.knex.raw(
      `CREATE TRIGGER ${baselineTrigger} BEFORE INSERT ON treatment_goals
         FOR EACH ROW WHEN (NEW.category IS NOT NULL) EXECUTE FUNCTION ${baselineFunction}()`,
    );
    const definition = async () =>
      (
        await db.knex.raw<{ rows: { d: string }[] }>(
          'SELECT pg_get_triggerdef(oid) AS d FROM pg_trigger WHERE tgname = ?',
          [baselineTrigger],
        )
      ).rows[0]?.d;
    const before = await definition();
    try {
      await createGoalChangeTracking(db.knex, DEFAULT_DDL_SETTINGS, CREATED_GOAL_TABLE);
      await runBackfill({ knex: db.knex, logger: silentLogger });
      expect(await definition()).toBe(before);
    } finally {
      await db.knex.raw(`DROP TRIGGER ${baselineTrigger} ON treatment_goals`);
      await createGoalChangeTracking(db.knex, DEFAULT_DDL_SETTINGS, CREATED_GOAL_TABLE);
    }
    expect(await trackingObjects()).toEqual({ columns: 2, functions: 3, triggers: 2 });
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../src/backfill/run';
import { silentLogger } from '../src/logging';
import { rollbackBackfill } from '../src/rollback';
import { getBackfillStatus } from '../src/status';
import { insertClinicianGoal, insertSessions, insertUsers, tableCounts } from './support/fixtures';
import { type TestDatabase, useMigratedDatabase } from './support/test-database';

/**
 * An app's own BEFORE INSERT triggers on treatment_goals adjust what the backfill inserts. The
 * goals nobody UPDATEd afterwards must still count as unchanged, and a rollback delete them.
 */
let db: TestDatabase;

useMigratedDatabase((created) => {
  db = created;
});

const APP_TRIGGERS = [
  {
    name: 'sets updated_at = clock_timestamp() on INSERT and UPDATE',
    body: 'NEW.updated_at := clock_timestamp();',
    events: 'INSERT OR UPDATE',
    stored: 'updated_at >= backfilled_at',
  },
  {
    name: 'sets updated_at = now() and tidies the category and details on INSERT',
    body: "NEW.updated_at := now(); NEW.category := lower(NEW.category); NEW.details := coalesce(NEW.details, '');",
    events: 'INSERT',
    stored: "category = 'activity' AND details = ''",
  },
  {
    name: 'moves updated_at a day on and sets a status of its own on INSERT',
    body: "NEW.updated_at := NEW.updated_at + interval '1 day'; NEW.status := 'in_progress';",
    events: 'INSERT',
    stored: "status = 'in_progress'",
  },
];

afterEach(async () => {
  await db.knex.raw('DROP TRIGGER IF EXISTS treatment_goals_app_insert ON treatment_goals');
  await db.knex.raw('DROP FUNCTION IF EXISTS app_goal_insert()');
});

const TASKS = ['Walk', 'Read', 'Sleep', 'Journal', 'Stretch'];

describe('a rollback under an app trigger that adjusts goals as they are inserted', () => {
  it.each(APP_TRIGGERS)('$name', async ({ body, events, stored }) => {
    await db.knex.raw(
      `CREATE FUNCTION app_goal_insert() RETURNS trigger LANGUAGE plpgsql
         AS $$ BEGIN ${body} RETURN NEW; END $$`,
    );
    // Named as apps name them, so it sorts (and fires) before the package's own.
    await db.knex.raw(
      `CREATE TRIGGER treatment_goals_app_insert BEFORE ${events} ON treatment_goals
         FOR EACH ROW EXECUTE FUNCTION app_goal_insert()`,
    );
    const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
    await insertSessions(db.knex, [
      {
        patientId: patient,
        sessionDate: '2024-01-01T00:00:00Z',
        notes: { action_items: TASKS.map((task) => ({ task, category: 'Activity' })) },
      },
    ]);
    const clinicianGoal = await insertClinicianGoal(db.knex, {
      patientId: patient,
      description: 'Mine',
    });
    const run = await runBackfill({ knex: db.knex, logger: silentLogger, batchSize: 2 });
    expect(run.goalsCreated).toBe(5);

    // What the app's trigger made of every goal the backfill inserted.
    const [{ n: asStored }] = (
      await db.knex.raw(
        `SELECT count(*)::int AS n FROM treatment_goals WHERE origin = 'backfill' AND ${stored}`,
      )
    ).rows;
    expect(asStored).toBe(5);

    expect((await getBackfillStatus({ knex: db.knex })).goals).toEqual({
      unchangedBackfill: 5,
      changedBackfill: 0,
      clinician: 1,
      seed: 0,
    });

    // A clinician's edit, through the same triggers.
    const [edited = ''] = await db
      .knex('treatment_goals')
      .where({ origin: 'backfill', description: 'Read' })
      .pluck('id');
    await db.knex('treatment_goals').where({ id: edited }).update({ details: 'Twice a day' });
    expect((await getBackfillStatus({ knex: db.knex })).goals).toMatchObject({
      unchangedBackfill: 4,
      changedBackfill: 1,
      clinician: 1,
    });

    const before = await tableCounts(db.knex);
    const dry = await rollbackBackfill({ knex: db.knex, logger: silentLogger, dryRun: true });
    expect(dry).toMatchObject({ deleted: 4, keptChanged: 1, keptClinician: 1 });
    expect(await tableCounts(db.knex)).toEqual(before);

    const result = await rollbackBackfill({ knex: db.knex, logger: silentLogger, batchSize: 2 });
    expect(result).toMatchObject({ deleted: 4, keptChanged: 1, keptClinician: 1 });
    expect((await db.knex('treatment_goals').pluck('id')).sort()).toEqual(
      [edited, clinicianGoal].sort(),
    );
  });
});

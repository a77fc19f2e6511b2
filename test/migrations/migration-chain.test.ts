import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackfillIncompleteError } from '../../src/errors';
import { expectGoalsToEqualModel } from '../support/backfill-assertions';
import { insertClinicianGoal, insertSessions, insertUsers, readGoals } from '../support/fixtures';
import { type ModelSession, modelBackfill } from '../support/reference-model';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db.drop();
});

async function completedMigrations(): Promise<string[]> {
  const [completed] = (await db.knex.migrate.list()) as [{ name: string }[], unknown];
  return completed.map((migration) => migration.name);
}

async function tableExists(name: string): Promise<boolean> {
  return db.knex.schema.hasTable(name);
}

describe('the migration chain', () => {
  let sessions: ModelSession[];
  let patient: string;

  it('creates the app tables first, then the goals schema, its dedup rule and the backfill', async () => {
    await db.knex.migrate.up();
    expect(await completedMigrations()).toEqual(['20261101000000_create_app_tables.ts']);
    const patients = await insertUsers(db.knex, 3, 'patient');
    patient = patients[0] ?? '';
    const [therapist = ''] = await insertUsers(db.knex, 1, 'therapist');
    sessions = await insertSessions(
      db.knex,
      Array.from({ length: 30 }, (_, i) => ({
        patientId: patients[i % 3] ?? '',
        therapistId: i % 2 ? therapist : null,
        sessionDate: new Date(Date.UTC(2024, i % 12, 1 + i)).toISOString(),
        notes:
          i % 5 === 0
            ? null
            : { action_items: [{ task: `Task ${i % 4}` }, { task: ' ' }, { task: `Own ${i}` }] },
      })),
    );

    await db.knex.migrate.latest();
    expect(await completedMigrations()).toHaveLength(4);
    await expectGoalsToEqualModel(db.knex, modelBackfill(sessions).goals);
  });

  it('down removes exactly the unchanged backfilled goals; up brings them back', async () => {
    await insertClinicianGoal(db.knex, { patientId: patient, description: 'By hand' });
    await db
      .knex('treatment_goals')
      .where({ description: 'Own 1' })
      .update({ status: 'completed' });

    await db.knex.migrate.down();
    expect(await completedMigrations()).toHaveLength(3);
    expect((await readGoals(db.knex)).map((goal) => goal.description).sort()).toEqual([
      'By hand',
      'Own 1',
    ]);

    await db.knex.migrate.latest();
    const expected = modelBackfill(sessions).goals;
    const backfilled = (await readGoals(db.knex)).filter((goal) => goal.origin === 'backfill');
    expect(backfilled).toHaveLength(expected.length);
  });

  it('keeps treatment_goals while clinician goals are in it, changes nothing, and migrate:latest restores the chain', async () => {
    await db.knex.migrate.down();
    const before = await readGoals(db.knex);
    await db.knex.migrate.down(); // the dedup rule: nothing to undo on a table this version made
    await db.knex.migrate.down();
    expect(await tableExists('treatment_goals')).toBe(true);
    expect(await readGoals(db.knex)).toEqual(before);
    expect(await completedMigrations()).toHaveLength(1);

    await db.knex.migrate.latest();
    expect(await completedMigrations()).toHaveLength(4);
    const backfilled = (await readGoals(db.knex)).filter((goal) => goal.origin === 'backfill');
    expect(backfilled).toHaveLength(modelBackfill(sessions).goals.length);
  });

  it('drops it when the override says the loss is deliberate; the app tables and their rows stay', async () => {
    const sessionsBefore = await db.knex('therapy_sessions').count({ n: '*' });
    await db.knex.migrate.down();
    await db.knex.migrate.down();
    process.env.GOAL_BACKFILL_ALLOW_TEARDOWN = '1';
    try {
      await db.knex.migrate.down();
    } finally {
      delete process.env.GOAL_BACKFILL_ALLOW_TEARDOWN;
    }
    expect(await tableExists('treatment_goals')).toBe(false);
    expect(await tableExists('goal_backfill_runs')).toBe(false);
    await db.knex.migrate.down();
    expect(await tableExists('therapy_sessions')).toBe(true);
    expect(await db.knex('therapy_sessions').count({ n: '*' })).toEqual(sessionsBefore);
    expect(await completedMigrations()).toEqual([]);

    await db.knex.migrate.latest();
    expect(await completedMigrations()).toHaveLength(4);
    expect((await readGoals(db.knex)).filter((goal) => goal.origin === 'backfill')).toHaveLength(
      modelBackfill(sessions).goals.length,
    );
  });

  it('fails the backfill migration when a session fails, keeps the rest, and completes on the next run', async () => {
    await db.knex.migrate.down();
    await db.knex('treatment_goals').delete();
    await db.knex('therapy_sessions').delete();
    const [p = ''] = await insertUsers(db.knex, 1, 'patient');
    const inserted = await insertSessions(db.knex, [
      {
        patientId: p,
        sessionDate: '2024-01-01T00:00:00Z',
        notes: { action_items: [{ task: 'Keep me' }] },
      },
      {
        patientId: p,
        sessionDate: '2024-01-02T00:00:00Z',
        notes: { action_items: [{ task: 'Reject me' }] },
      },
    ]);
    await db.knex.raw(`
      CREATE FUNCTION reject_goal() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.description = 'Reject me' THEN RAISE EXCEPTION 'no'; END IF; RETURN NEW; END $$`);
    await db.knex.raw(
      'CREATE TRIGGER reject_goal BEFORE INSERT ON treatment_goals FOR EACH ROW EXECUTE FUNCTION reject_goal()',
    );

    const error = await db.knex.migrate.latest().catch((e) => e);
    expect(error).toMatchObject({ name: BackfillIncompleteError.name, code: 'INCOMPLETE' });
    expect(error.message).toMatch(/^1 session\(s\) failed to backfill in run [0-9a-f-]{36}; /);
    expect(error.message).toContain('goal_backfill_failures');
    expect(await completedMigrations()).toHaveLength(3);
    expect((await readGoals(db.knex)).map((goal) => goal.description)).toEqual(['Keep me']);
    const [failure] = await db.knex('goal_backfill_failures').select('session_id');
    expect(failure?.session_id).toBe(inserted[1]?.id);

    await db.knex.raw('DROP TRIGGER reject_goal ON treatment_goals');
    await db.knex.migrate.latest();
    expect(await completedMigrations()).toHaveLength(4);
    expect((await readGoals(db.knex)).map((goal) => goal.description).sort()).toEqual([
      'Keep me',
      'Reject me',
    ]);
  });
});

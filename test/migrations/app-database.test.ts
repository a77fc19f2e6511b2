import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppSchemaIncompatibleError } from '../../src/errors';
import { countOf } from '../seed/seeded-data';
import {
  appTableDigests,
  completedMigrations,
  createAppOwnedTables,
  tableExists,
} from '../support/app-database';
import { expectGoalsToEqualModel } from '../support/backfill-assertions';
import { insertClinicianGoal, insertSessions, insertUsers, readGoals } from '../support/fixtures';
import { type ModelSession, modelBackfill } from '../support/reference-model';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await db.drop();
});

async function fillApp(): Promise<ModelSession[]> {
  const patients = await insertUsers(db.knex, 3, 'patient');
  const [therapist = ''] = await insertUsers(db.knex, 1, 'therapist');
  await db.knex('invoices').insert(patients.map((id) => ({ patient_id: id, amount_cents: 9000 })));
  return insertSessions(
    db.knex,
    Array.from({ length: 24 }, (_, i) => ({
      patientId: patients[i % 3] ?? '',
      therapistId: i % 2 ? therapist : null,
      sessionDate: new Date(Date.UTC(2024, i % 12, 1 + i)).toISOString(),
      notes: { action_items: [{ task: `Task ${i % 5}` }, { task: `Own ${i}` }] },
    })),
  );
}

describe('the chain on an app database whose tables exist before it', () => {
  it('leaves the app tables and their rows untouched, creates and backfills treatment_goals, and is recorded complete', async () => {
    await createAppOwnedTables(db.knex);
    const sessions = await fillApp();
    const before = await appTableDigests(db.knex);

    await db.knex.migrate.latest();

    expect(await appTableDigests(db.knex)).toEqual(before);
    expect(await completedMigrations(db.knex)).toHaveLength(4);
    await expectGoalsToEqualModel(db.knex, modelBackfill(sessions).goals);
  });

  it.skipIf(onPglite)(
    'with GOAL_BACKFILL_WORKERS=3: the same app tables and rows untouched, the same goals',
    async () => {
      await createAppOwnedTables(db.knex);
      const sessions = await fillApp();
      const before = await appTableDigests(db.knex);
      process.env.GOAL_BACKFILL_WORKERS = '3';
      try {
        await db.knex.migrate.latest();
      } finally {
        delete process.env.GOAL_BACKFILL_WORKERS;
      }
      expect(await appTableDigests(db.knex)).toEqual(before);
      expect(await completedMigrations(db.knex)).toHaveLength(4);
      await expectGoalsToEqualModel(db.knex, modelBackfill(sessions).goals);
      const [run] = await db.knex('goal_backfill_runs').select('status', 'counts');
      expect(run).toMatchObject({ status: 'succeeded', counts: { sessionsProcessed: 24 } });
    },
  );

  it('keeps the app tables and every row through migrate:rollback --all, whatever batch the chain ran in', async () => {
    await createAppOwnedTables(db.knex);
    await fillApp();
    await db.knex.migrate.latest();
    const before = await appTableDigests(db.knex);

    await db.knex.migrate.rollback(undefined, true);

    expect(await completedMigrations(db.knex)).toEqual([]);
    expect(await tableExists(db.knex, 'treatment_goals')).toBe(false);
    expect(await appTableDigests(db.knex)).toEqual(before);
  });

  it('fails before changing anything when a column is missing or of another type, naming table and column', async () => {
    await db.knex.raw(`
      CREATE TABLE therapy_sessions (
        id uuid PRIMARY KEY, patient_id uuid NOT NULL, session_date text NOT NULL,
        extracted_notes json)`);

    const error = await db.knex.migrate.latest().catch((e: unknown) => e);

    expect(error).toMatchObject({
      name: AppSchemaIncompatibleError.name,
      code: 'APP_SCHEMA_INCOMPATIBLE',
    });
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain('therapy_sessions.therapist_id is missing');
    expect(message).toContain('therapy_sessions.session_date is text');
    expect(message).toContain('therapy_sessions.extracted_notes is json; the backfill needs jsonb');
    expect((error as Error).stack).toBe(`${(error as Error).name}: ${message}`);
    expect(await tableExists(db.knex, 'users')).toBe(false);
    expect(await tableExists(db.knex, 'treatment_goals')).toBe(false);
    expect(await completedMigrations(db.knex)).toEqual([]);
  });
});

describe('the chain on a database it built itself', () => {
  it('keeps users and therapy_sessions with their rows when the first batch is rolled back', async () => {
    await db.knex.migrate.latest();
    const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
    await insertSessions(db.knex, [
      { patientId: patient, sessionDate: '2024-01-01T00:00:00Z', notes: { action_items: [] } },
    ]);
    const batches = await db.knex('goal_backfill_migrations').distinct('batch');
    expect(batches).toEqual([{ batch: 1 }]);

    await db.knex.migrate.rollback();

    expect(await completedMigrations(db.knex)).toEqual([]);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM therapy_sessions')).toBe(1);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM users')).toBe(1);
    expect(await tableExists(db.knex, 'treatment_goals')).toBe(false);

    await db.knex.migrate.latest();
    expect(await completedMigrations(db.knex)).toHaveLength(4);
  });

  it('rolling back the deploy batch with clinician goals keeps the schema and those goals, and migrate:latest restores the backfill', async () => {
    await db.knex.migrate.up();
    const patients = await insertUsers(db.knex, 2, 'patient');
    const sessions = await insertSessions(db.knex, [
      {
        patientId: patients[0] ?? '',
        sessionDate: '2024-01-01T00:00:00Z',
        notes: { action_items: [{ task: 'Walk' }, { task: 'Read' }] },
      },
      {
        patientId: patients[1] ?? '',
        sessionDate: '2024-01-02T00:00:00Z',
        notes: { action_items: [{ task: 'Sleep' }] },
      },
    ]);
    await db.knex.migrate.latest();
    await insertClinicianGoal(db.knex, { patientId: patients[1] ?? '', description: 'By hand' });

    await db.knex.migrate.rollback();

    expect(await completedMigrations(db.knex)).toEqual(['20261101000000_create_app_tables.ts']);
    expect((await readGoals(db.knex)).map((goal) => goal.description)).toEqual(['By hand']);

    await db.knex.migrate.latest();
    expect(await completedMigrations(db.knex)).toHaveLength(4);
    const backfilled = (await readGoals(db.knex)).filter((goal) => goal.origin === 'backfill');
    expect(backfilled).toHaveLength(modelBackfill(sessions).goals.length);
  });
});

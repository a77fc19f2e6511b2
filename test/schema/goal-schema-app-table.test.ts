import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { AppSchemaIncompatibleError } from '../../src/errors';
import { silentLogger } from '../../src/logging';
import { countOf } from '../seed/seeded-data';
import { completedMigrations, createAppOwnedTables } from '../support/app-database';
import {
  adoptedDefinition,
  appGoalRows,
  createAppGoalTable,
  insertAppGoals,
  packageObjects,
  tableDefinition,
} from '../support/app-goal-table';
import {
  expectCountsToEqualModel,
  expectGoalsToEqualModel,
  runStoppedAfterFirstPage,
} from '../support/backfill-assertions';
import { insertSessions, insertUsers, readGoals } from '../support/fixtures';
import { type ModelSession, modelBackfill, pairKey } from '../support/reference-model';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';
import { verifyChecks } from '../support/verify-sql';

/**
 * The chain on an app whose goal-tracking feature made treatment_goals before the backfill came:
 * the chain adopts the table, backfills into it under the same rules, leaves the app's columns,
 * rules and goals alone, and its rollback gives the table back exactly as the app had it.
 */

const LIMITS = { description: 40, category: 12, details: 30 };

let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await db.drop();
});

interface AppWorld {
  sessions: ModelSession[];
  appGoalIds: string[];
  existingPairs: Set<string>;
  patients: string[];
}

/** The app's tables and rows: sessions of every fit, and clinicians' goals, two of them the same. */
async function appWorld(extraSessions = 0): Promise<AppWorld> {
  await createAppOwnedTables(db.knex);
  await createAppGoalTable(db.knex);
  const patients = await insertUsers(db.knex, 3, 'patient');
  const [p1 = '', p2 = '', p3 = ''] = patients;
  const [therapist = ''] = await insertUsers(db.knex, 1, 'therapist');
  const sessions = await insertSessions(db.knex, [
    {
      patientId: p1,
      therapistId: therapist,
      sessionDate: '2024-01-01T10:00:00Z',
      notes: {
        action_items: [
          { task: 'Walk daily', category: 'exercise', details: '20 min' },
          { task: 'x'.repeat(41) },
          { task: 'Sleep early', category: 'a category too long' },
          { task: 'Breathe', details: 'd'.repeat(31) },
          { task: ` ${'é'.repeat(40)} ` },
        ],
      },
    },
    {
      patientId: p1,
      sessionDate: '2024-02-01T10:00:00Z',
      notes: { action_items: [{ task: 'Walk daily' }, { task: 'Journal nightly' }, 'x'] },
    },
    {
      patientId: p2,
      therapistId: therapist,
      sessionDate: '2024-01-15T09:30:00Z',
      notes: { action_items: [{ task: 'Walk daily' }, { task: 'Stretch', category: 'mobility' }] },
    },
    { patientId: p2, sessionDate: '2024-03-01T09:30:00Z', notes: null },
    ...Array.from({ length: extraSessions }, (_, i) => ({
      patientId: patients[i % 3] ?? '',
      therapistId: i % 2 ? therapist : null,
      sessionDate: new Date(Date.UTC(2024, i % 12, 1 + (i % 27), 8)).toISOString(),
      notes: { action_items: [{ task: `Task ${i % 5}` }, { task: `Own ${i}` }] },
    })),
  ]);
  const appGoals = [
    { patientId: p1, description: 'Journal nightly', status: 'completed' },
    { patientId: p1, description: 'Journal nightly', targetDate: '2025-06-01' },
    { patientId: p3, description: 'Hydrate', status: 'in_progress' },
  ];
  const appGoalIds = await insertAppGoals(db.knex, appGoals);
  const existingPairs = new Set(appGoals.map((goal) => pairKey(goal.patientId, goal.description)));
  return { sessions, appGoalIds, existingPairs, patients };
}

describe("the chain on an app whose treatment_goals exists, with clinicians' goals in it", () => {
  it("adopts it and backfills it by the same rules and counts, leaving the app's columns, rules and goals alone", async () => {
    const world = await appWorld();
    const before = await tableDefinition(db.knex, 'treatment_goals');
    const appRows = await appGoalRows(db.knex, world.appGoalIds);
    const expected = modelBackfill(world.sessions, world.existingPairs, LIMITS);

    // The schema first, then a dry run that counts exactly what the run will do, writing nothing.
    await db.knex.migrate.up();
    await db.knex.migrate.up();
    await db.knex.migrate.up();
    expect(await completedMigrations(db.knex)).toHaveLength(3);
    const dry = await runBackfill({ knex: db.knex, logger: silentLogger, dryRun: true });
    expectCountsToEqualModel(dry, expected.counts);
    expect(await readGoals(db.knex)).toHaveLength(world.appGoalIds.length);

    await db.knex.migrate.latest();

    expect(await completedMigrations(db.knex)).toHaveLength(4);
    await expectGoalsToEqualModel(db.knex, expected.goals);
    const [run] = await db.knex('goal_backfill_runs').select('status', 'counts');
    expect(run?.status).toBe('succeeded');
    expect(run?.counts).toMatchObject(expected.counts);
    expect(expected.counts.invalidByReason).toMatchObject({
      task_too_long: 1,
      category_too_long: 1,
      details_too_long: 1,
    });
    // The 40 characters of é fit: the limit counts characters, not bytes, and nothing is cut.
    expect(expected.goals.map((goal) => goal.description)).toContain('é'.repeat(40));
    expect(await tableDefinition(db.knex, 'treatment_goals')).toEqual(adoptedDefinition(before));
    expect(await appGoalRows(db.knex, world.appGoalIds)).toEqual(appRows);
    // A pair with any goal of the app's gets none from the backfill, its duplicates included.
    const journal = await countOf(
      db.knex,
      "SELECT count(*) AS n FROM treatment_goals WHERE description = 'Journal nightly'",
    );
    expect(journal).toBe(2);
    // The verification SQL of the migration guide holds on the app's table.
    for (const check of await verifyChecks(db.knex)) {
      expect(
        check.values.every((value) => value === 0),
        check.title,
      ).toBe(true);
    }
    // The columns the backfill does not know keep the app's defaults.
    const backfilled = await db.knex('treatment_goals').where({ origin: 'backfill' });
    for (const goal of backfilled)
      expect(goal).toMatchObject({ status: 'assigned', target_date: null });
  });

  it('lets a clinician enter a goal whose text the patient already has, before and after the backfill', async () => {
    const world = await appWorld();
    const [p1 = ''] = world.patients;
    await db.knex.migrate.latest();
    await insertAppGoals(db.knex, [
      { patientId: p1, description: 'Walk daily' },
      { patientId: p1, description: 'Journal nightly' },
    ]);
    const walk = await db
      .knex('treatment_goals')
      .where({ patient_id: p1, description: 'Walk daily' })
      .select('origin');
    expect(walk.map((goal) => goal.origin).sort()).toEqual(['backfill', null]);
  });

  it('rolls back to exactly the table the app had, keeps its goals and the edited ones, and adopts it again', async () => {
    const world = await appWorld();
    const [p1 = ''] = world.patients;
    const before = await tableDefinition(db.knex, 'treatment_goals');
    const sessionsBefore = await tableDefinition(db.knex, 'therapy_sessions');
    const appRows = await appGoalRows(db.knex, world.appGoalIds);
    await db.knex.migrate.latest();
    await db
      .knex('treatment_goals')
      .where({ patient_id: p1, description: 'Walk daily' })
      .update({ status: 'in_progress' });
    const [edited] = await db
      .knex('treatment_goals')
      .where({ patient_id: p1, description: 'Walk daily' })
      .pluck('id');

    await db.knex.migrate.rollback(undefined, true);

    expect(await completedMigrations(db.knex)).toEqual([]);
    expect(await tableDefinition(db.knex, 'treatment_goals')).toEqual(before);
    expect(await tableDefinition(db.knex, 'therapy_sessions')).toEqual(sessionsBefore);
    expect(await packageObjects(db.knex)).toEqual([]);
    expect(await appGoalRows(db.knex, world.appGoalIds)).toEqual(appRows);
    const left = await db.knex('treatment_goals').orderBy('id').pluck('id');
    expect(left.map(String)).toEqual([...world.appGoalIds, String(edited)]);

    await db.knex.migrate.latest();
    expect(await tableDefinition(db.knex, 'treatment_goals')).toEqual(adoptedDefinition(before));
    const kept = new Set([...world.existingPairs, pairKey(p1, 'Walk daily')]);
    await expectGoalsToEqualModel(db.knex, modelBackfill(world.sessions, kept, LIMITS).goals);
  });

  it('resumes a stopped run and splits among workers as on a table it created', async () => {
    const world = await appWorld(30);
    const expected = modelBackfill(world.sessions, world.existingPairs, LIMITS);
    await db.knex.migrate.up();
    await db.knex.migrate.up();
    await db.knex.migrate.up();
    const stopped = await runStoppedAfterFirstPage(db.knex, 4);
    expect(stopped.outcome).toBe('interrupted');
    const resumed = await runBackfill({ knex: db.knex, logger: silentLogger, batchSize: 4 });
    expect(resumed.resumed).toBe(true);
    expectCountsToEqualModel(resumed, expected.counts);
    await expectGoalsToEqualModel(db.knex, expected.goals);

    if (onPglite) return;
    await db.knex('treatment_goals').where({ origin: 'backfill' }).delete();
    const split = await runBackfill({
      knex: db.knex,
      logger: silentLogger,
      batchSize: 4,
      workers: 3,
    });
    expectCountsToEqualModel(split, expected.counts);
    await expectGoalsToEqualModel(db.knex, expected.goals);
  });
});

describe('an app treatment_goals the backfill cannot write into', () => {
  const variants: [string, string[], string][] = [
    [
      'without a description',
      [
        'CREATE TABLE treatment_goals (id bigserial PRIMARY KEY, patient_id uuid NOT NULL, title text)',
      ],
      'treatment_goals.description is missing',
    ],
    [
      'with a NOT NULL column the backfill cannot fill',
      [
        `CREATE TABLE treatment_goals (id bigserial PRIMARY KEY, patient_id uuid NOT NULL,
           description text NOT NULL, reviewed_by uuid NOT NULL)`,
      ],
      'treatment_goals.reviewed_by is NOT NULL without a default',
    ],
    [
      "with an enum status without 'assigned'",
      [
        "CREATE TYPE goal_state AS ENUM ('open', 'done')",
        `CREATE TABLE treatment_goals (id bigserial PRIMARY KEY, patient_id uuid NOT NULL,
           description text NOT NULL, status goal_state NOT NULL DEFAULT 'open')`,
      ],
      "treatment_goals.status is goal_state, which cannot hold 'assigned'",
    ],
    [
      "with a CHECK on status that refuses 'assigned'",
      [
        `CREATE TABLE treatment_goals (id bigserial PRIMARY KEY, patient_id uuid NOT NULL,
           description text NOT NULL, status text NOT NULL CHECK (status IN ('open', 'done')))`,
      ],
      "treatment_goals.status has a CHECK that refuses 'assigned'",
    ],
    [
      "with a status domain that refuses 'assigned'",
      [
        "CREATE DOMAIN goal_state AS varchar(20) CHECK (VALUE IN ('open', 'done'))",
        `CREATE TABLE treatment_goals (id bigserial PRIMARY KEY, patient_id uuid NOT NULL,
           description text NOT NULL, status goal_state)`,
      ],
      "treatment_goals.status is goal_state, which cannot hold 'assigned'",
    ],
    [
      'with a column of its own named like a provenance column',
      [
        `CREATE TABLE treatment_goals (id bigserial PRIMARY KEY, patient_id uuid NOT NULL,
           description text NOT NULL, origin text)`,
      ],
      'treatment_goals.origin is a column of the app',
    ],
    [
      'with NOT NULL details',
      [
        `CREATE TABLE treatment_goals (id bigserial PRIMARY KEY, patient_id uuid NOT NULL,
           description text NOT NULL, details text NOT NULL DEFAULT '')`,
      ],
      'treatment_goals.details is NOT NULL, but the backfill leaves it NULL',
    ],
    [
      'with a description of another type',
      [
        `CREATE TABLE treatment_goals (id bigserial PRIMARY KEY, patient_id uuid NOT NULL,
           description jsonb NOT NULL)`,
      ],
      'treatment_goals.description is jsonb',
    ],
  ];

  it.each(variants)(
    'refuses one %s before changing anything, in one line naming the column',
    async (_name, statements, expected) => {
      await createAppOwnedTables(db.knex);
      for (const statement of statements) await db.knex.raw(statement);
      const before = await tableDefinition(db.knex, 'treatment_goals');

      const error = await db.knex.migrate.latest().catch((e: unknown) => e);

      expect(error).toMatchObject({ name: AppSchemaIncompatibleError.name });
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toContain(expected);
      expect(message).toMatch(/^the app's tables do not fit the backfill, nothing was changed: /);
      expect(await tableDefinition(db.knex, 'treatment_goals')).toEqual(before);
      expect(await packageObjects(db.knex)).toEqual([]);
      expect(await completedMigrations(db.knex)).toEqual(['20261101000000_create_app_tables.ts']);
    },
  );
});

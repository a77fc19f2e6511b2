import type { Knex } from 'knex';
import { beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../src/backfill/run';
import { sqlRunner } from '../src/db/sql-runner';
import { takeGoalCensus } from '../src/goals';
import { silentLogger } from '../src/logging';
import { rollbackBackfill } from '../src/rollback';
import { insertClinicianGoal, insertSessions, insertUsers, tableCounts } from './support/fixtures';
import { onPglite, type TestDatabase, useMigratedDatabase } from './support/test-database';

let db: TestDatabase;
let ids: Record<string, string>;
let clinicianGoal: string;
/** The values an edit of each clinical column writes. */
let edits: Record<ClinicalColumn, string>;

useMigratedDatabase((created) => {
  db = created;
});

type ClinicalColumn =
  | 'description'
  | 'category'
  | 'details'
  | 'status'
  | 'therapist_id'
  | 'session_id';
const COLUMNS: ClinicalColumn[] = [
  'description',
  'category',
  'details',
  'status',
  'therapist_id',
  'session_id',
];

const TASKS = ['Walk', 'Read', 'Sleep', 'Journal', 'Stretch'];

/**
 * Five backfilled goals from one session (category 'activity', details 'Once a day', a
 * therapist), one clinician goal, a second therapist and a second session to move a goal to.
 */
beforeEach(async () => {
  const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
  const [therapist = '', otherTherapist = ''] = await insertUsers(db.knex, 2, 'therapist');
  const [, otherSession] = await insertSessions(db.knex, [
    {
      patientId: patient,
      therapistId: therapist,
      sessionDate: '2024-01-01T00:00:00Z',
      notes: {
        action_items: TASKS.map((task) => ({ task, category: 'activity', details: 'Once a day' })),
      },
    },
    { patientId: patient, therapistId: therapist, sessionDate: '2024-02-01T00:00:00Z', notes: {} },
  ]);
  clinicianGoal = await insertClinicianGoal(db.knex, { patientId: patient, description: 'Mine' });
  await runBackfill({ knex: db.knex, logger: silentLogger });
  const goals = await db.knex('treatment_goals').select('id', 'description');
  ids = Object.fromEntries(goals.map((goal) => [goal.description, goal.id]));
  edits = {
    description: 'Walk every morning',
    category: 'exercise',
    details: 'Twice a day',
    status: 'in_progress',
    therapist_id: otherTherapist,
    session_id: otherSession?.id ?? '',
  };
});

/** The goal ids left, sorted. */
async function remainingIds(): Promise<string[]> {
  return (await db.knex('treatment_goals').pluck('id')).sort();
}

/** What every case expects: the edited goal and the clinician's stay, the other four go. */
async function expectRollbackKeeps(edited: string): Promise<void> {
  const census = await takeGoalCensus(sqlRunner(db.knex));
  expect(census).toMatchObject({ unchangedBackfill: 4, changedBackfill: 1, clinician: 1 });

  const before = await tableCounts(db.knex);
  const dry = await rollbackBackfill({ knex: db.knex, logger: silentLogger, dryRun: true });
  expect(dry).toMatchObject({ deleted: 4, keptChanged: 1, keptClinician: 1 });
  expect(await tableCounts(db.knex)).toEqual(before);

  const result = await rollbackBackfill({ knex: db.knex, logger: silentLogger, batchSize: 2 });
  expect(result).toMatchObject({ deleted: 4, keptChanged: 1, keptClinician: 1 });
  expect(await remainingIds()).toEqual([edited, clinicianGoal].sort());
}

type Edit = (knex: Knex, id: string, column: ClinicalColumn, value: string) => Promise<void>;

const goal = (knex: Knex, id: string) => knex('treatment_goals').where({ id });

/** Each way an app can edit a goal, as the issue lists them. */
const KINDS: [string, Edit][] = [
  [
    'with updated_at moving',
    async (knex, id, column, value) => {
      await goal(knex, id).update({ [column]: value, updated_at: knex.raw('clock_timestamp()') });
    },
  ],
  [
    'without updated_at moving',
    async (knex, id, column, value) => {
      await goal(knex, id).update({ [column]: value });
    },
  ],
  [
    'with updated_at set back to its old value',
    async (knex, id, column, value) => {
      // As text, to the microsecond: a JavaScript Date would round it.
      const [{ old }] = await goal(knex, id).select(knex.raw('CAST(updated_at AS text) AS old'));
      await goal(knex, id).update({ [column]: value, updated_at: knex.raw('clock_timestamp()') });
      await goal(knex, id).update({ updated_at: knex.raw('CAST(? AS timestamptz)', [old]) });
      const [{ same }] = await goal(knex, id).select(
        knex.raw('updated_at = backfilled_at AS same'),
      );
      expect(same).toBe(true);
    },
  ],
  [
    'changed, then changed back',
    async (knex, id, column, value) => {
      const [row] = await goal(knex, id).select(column);
      await goal(knex, id).update({ [column]: value });
      await goal(knex, id).update({ [column]: row[column] });
    },
  ],
];

describe('a rollback keeps every backfilled goal an app edited', () => {
  const cases = KINDS.flatMap(([kind, edit]) =>
    COLUMNS.map((column) => [column, kind, edit] as const),
  );

  it.each(cases)('%s, %s', async (column, _kind, edit) => {
    const target = ids.Walk ?? '';
    await edit(db.knex, target, column, edits[column]);
    await expectRollbackKeeps(target);
  });

  it('counts a goal as unchanged when no one touched it, and deletes all five', async () => {
    const census = await takeGoalCensus(sqlRunner(db.knex));
    expect(census).toMatchObject({ unchangedBackfill: 5, changedBackfill: 0, clinician: 1 });
    const result = await rollbackBackfill({ knex: db.knex, logger: silentLogger });
    expect(result).toMatchObject({ deleted: 5, keptChanged: 0 });
    expect(await remainingIds()).toEqual([clinicianGoal]);
  });

  it('with triggers off (session_replication_role = replica), the fingerprint still tells a changed description', async () => {
    const target = ids.Walk ?? '';
    await db.knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL session_replication_role = replica');
      await goal(trx, target).update({ description: edits.description });
    });
    const [row] = await goal(db.knex, target).select('clinician_touched_at');
    expect(row?.clinician_touched_at).toBeNull();
    await expectRollbackKeeps(target);
  });

  it('through npx knex migrate:down too (the backfill migration’s down)', async () => {
    const target = ids.Walk ?? '';
    await goal(db.knex, target).update({ details: edits.details });
    await db.knex.migrate.down();
    try {
      expect(await remainingIds()).toEqual([target, clinicianGoal].sort());
    } finally {
      await db.knex.migrate.latest();
    }
  });
});

/** Waits until the rollback's DELETE waits for a row lock. */
async function rollbackBlocked(knex: Knex): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const result = await knex.raw<{ rows: unknown[] }>(
      `SELECT 1 FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'goal-backfill rollback'
          AND wait_event_type = 'Lock'
          AND query ILIKE '%DELETE%'`,
    );
    if (result.rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the rollback never waited for the edited goal');
}

describe.skipIf(onPglite)('an edit committed while the rollback runs', () => {
  it.each(COLUMNS)(
    'survives: %s changed without updated_at moving, committed while the DELETE waits',
    async (column) => {
      // The first goal by id, so the edit lands in the first batch and later batches must run.
      const [first] = await db
        .knex('treatment_goals')
        .where({ origin: 'backfill' })
        .orderBy('id')
        .limit(1)
        .pluck('id');
      const target = first ?? '';
      const trx = await db.knex.transaction();
      let rollback: ReturnType<typeof rollbackBackfill> | undefined;
      try {
        await goal(trx, target).update({ [column]: edits[column] });
        rollback = rollbackBackfill({ knex: db.knex, logger: silentLogger, batchSize: 2 });
        await rollbackBlocked(db.knex);
        await trx.commit();
      } catch (err) {
        await trx.rollback();
        await rollback?.catch(() => undefined);
        throw err;
      }
      const result = await rollback;
      expect(result.deleted).toBe(4);
      expect(await remainingIds()).toEqual([target, clinicianGoal].sort());
      const census = await takeGoalCensus(sqlRunner(db.knex));
      expect(census).toMatchObject({ unchangedBackfill: 0, changedBackfill: 1, clinician: 1 });
    },
  );
});

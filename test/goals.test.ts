import { beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../src/backfill/run';
import { sqlRunner, toCount } from '../src/db/sql-runner';
import { TeardownRefusedError } from '../src/errors';
import {
  assertTeardownAllowed,
  goalProvenanceSql,
  TEARDOWN_OVERRIDE_VARIABLE,
  takeGoalCensus,
} from '../src/goals';
import { silentLogger } from '../src/logging';
import { TABLES } from '../src/names';
import { readGoalTableMapping } from '../src/schema/goal-table';
import { CapturingLogger } from './support/capturing-logger';
import { insertClinicianGoal, insertSessions, insertUsers } from './support/fixtures';
import { type TestDatabase, useMigratedDatabase } from './support/test-database';

/**
 * The goals by provenance: every goal falls under exactly one census count, a backfilled goal
 * counts as changed after any UPDATE or clinical change, and a teardown is refused while
 * clinical goals would be lost.
 */

let db: TestDatabase;
useMigratedDatabase((created) => {
  db = created;
});

let patient: string;

/** Six goals backfilled from one session. */
async function backfillSix(): Promise<void> {
  [patient = ''] = await insertUsers(db.knex, 1, 'patient');
  const tasks = ['Walk', 'Read', 'Sleep', 'Journal', 'Stretch', 'Call'];
  await insertSessions(db.knex, [
    {
      patientId: patient,
      sessionDate: '2024-01-01T00:00:00Z',
      notes: { action_items: tasks.map((task) => ({ task })) },
    },
  ]);
  const result = await runBackfill({ knex: db.knex, logger: silentLogger });
  expect(result.goalsCreated).toBe(6);
}

const goals = () => db.knex(TABLES.goals);

beforeEach(async () => {
  await backfillSix();
});

describe('takeGoalCensus', () => {
  it('counts the goals of each provenance, each goal once', async () => {
    expect(await takeGoalCensus(sqlRunner(db.knex))).toEqual({
      unchangedBackfill: 6,
      changedBackfill: 0,
      clinician: 0,
      seed: 0,
    });

    await insertClinicianGoal(db.knex, { patientId: patient, description: 'Entered by hand' });
    await goals().insert({
      patient_id: patient,
      description: 'The app left origin NULL',
      category: 'general',
      origin: null,
    });
    await goals().insert({
      patient_id: patient,
      description: 'Demo goal',
      category: 'general',
      origin: 'seed',
    });
    // A clinical change, a new updated_at, and an UPDATE that changes nothing: each one counts.
    await goals().where({ description: 'Walk' }).update({ status: 'in_progress' });
    await goals().where({ description: 'Read' }).update({ updated_at: db.knex.fn.now() });
    await goals()
      .where({ description: 'Sleep' })
      .update({ description: db.knex.raw('description') });

    const census = await takeGoalCensus(sqlRunner(db.knex));
    expect(census).toEqual({ unchangedBackfill: 3, changedBackfill: 3, clinician: 2, seed: 1 });

    // The conditions the census counts by split the table: every goal under exactly one.
    const sql = goalProvenanceSql(await readGoalTableMapping(sqlRunner(db.knex)));
    const underOne = [sql.unchangedBackfill, sql.changedBackfill, sql.clinician, sql.seed]
      .map((condition) => `coalesce((${condition})::int, 0)`)
      .join(' + ');
    const [row] = await db
      .knex(TABLES.goals)
      .select(
        db.knex.raw('count(*) AS total'),
        db.knex.raw(`count(*) FILTER (WHERE ${underOne} = 1) AS once`),
        db.knex.raw(`count(*) FILTER (WHERE ${sql.anyBackfill}) AS backfilled`),
      );
    expect(toCount(row?.total)).toBe(9);
    expect(toCount(row?.once)).toBe(9);
    expect(toCount(row?.backfilled)).toBe(6);
  });
});

describe('assertTeardownAllowed', () => {
  it('allows a teardown that loses only unchanged backfilled and demo goals', async () => {
    await goals().insert({
      patient_id: patient,
      description: 'Demo goal',
      category: 'general',
      origin: 'seed',
    });
    const logger = new CapturingLogger();
    await assertTeardownAllowed(db.knex, { allow: false, logger });
    expect(logger.named('teardown.override')).toEqual([]);
  });

  it('refuses while clinician or changed goals are there, and logs the loss when allowed', async () => {
    await insertClinicianGoal(db.knex, { patientId: patient, description: 'Entered by hand' });
    await goals().where({ description: 'Walk' }).update({ status: 'completed' });

    const error = await assertTeardownAllowed(db.knex, {
      allow: false,
      logger: silentLogger,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TeardownRefusedError);
    expect(error).toMatchObject({ clinicianGoals: 1, changedBackfilledGoals: 1 });
    expect((error as Error).message).toContain(`${TEARDOWN_OVERRIDE_VARIABLE}=1`);

    const logger = new CapturingLogger();
    await assertTeardownAllowed(db.knex, { allow: true, logger });
    expect(logger.named('teardown.override')[0]?.fields).toMatchObject({
      clinicianGoals: 1,
      changedBackfilledGoals: 1,
    });
    // Checking changes nothing.
    expect(await takeGoalCensus(sqlRunner(db.knex))).toMatchObject({ unchangedBackfill: 5 });
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run-backfill';
import { silentLogger } from '../../src/logging/logger';
import { rollbackBackfill } from '../../src/rollback/rollback-backfill';
import { CapturingLogger } from '../support/capturing-logger';
import {
  insertClinicianGoal,
  insertSessions,
  insertUsers,
  readGoals,
  tableCounts,
} from '../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';

let db: TestDatabase;
let patient: string;

useMigratedDatabase((created) => {
  db = created;
});

/** Six backfilled goals, one clinician goal, one goal whose status a clinician moved, one edited. */
beforeEach(async () => {
  [patient = ''] = await insertUsers(db.knex, 1, 'patient');
  await insertSessions(db.knex, [
    {
      patientId: patient,
      sessionDate: '2024-01-01T00:00:00Z',
      notes: {
        action_items: ['Walk', 'Read', 'Sleep', 'Journal', 'Stretch', 'Call'].map((task) => ({
          task,
        })),
      },
    },
  ]);
  await insertClinicianGoal(db.knex, { patientId: patient, description: 'Entered by hand' });
  await runBackfill({ knex: db.knex, logger: silentLogger });
  await db.knex('treatment_goals').where({ description: 'Walk' }).update({ status: 'in_progress' });
  await db
    .knex('treatment_goals')
    .where({ description: 'Read' })
    .update({ updated_at: db.knex.fn.now() });
});

async function descriptions(): Promise<string[]> {
  return (await readGoals(db.knex)).map((goal) => goal.description).sort();
}

describe('rollbackBackfill', () => {
  it('deletes only the unchanged backfilled goals and reports what it kept', async () => {
    const logger = new CapturingLogger();
    const result = await rollbackBackfill({ knex: db.knex, logger, batchSize: 2 });
    expect(result).toMatchObject({ deleted: 4, keptChanged: 2, keptClinician: 1, dryRun: false });
    expect(await descriptions()).toEqual(['Entered by hand', 'Read', 'Walk']);
    expect(logger.named('rollback.finish')[0]?.fields).toMatchObject({
      deleted: 4,
      keptChanged: 2,
    });
  });

  it('brings the same goals back when the backfill runs again', async () => {
    const before = await readGoals(db.knex);
    await rollbackBackfill({ knex: db.knex, logger: silentLogger });
    const rerun = await runBackfill({ knex: db.knex, logger: silentLogger });
    expect(rerun.goalsCreated).toBe(4);
    const strip = (goals: typeof before) => goals.map(({ status: _status, ...goal }) => goal);
    expect(strip(await readGoals(db.knex))).toEqual(strip(before));
  });

  it('in a dry run counts what it would delete and deletes nothing', async () => {
    const before = await tableCounts(db.knex);
    const result = await rollbackBackfill({ knex: db.knex, logger: silentLogger, dryRun: true });
    expect(result).toMatchObject({ deleted: 4, keptChanged: 2, keptClinician: 1, dryRun: true });
    expect(await tableCounts(db.knex)).toEqual(before);
  });

  it('deletes changed backfilled goals too when asked, warning first, and never clinician goals', async () => {
    const logger = new CapturingLogger();
    const result = await rollbackBackfill({ knex: db.knex, logger, includeChanged: true });
    expect(result).toMatchObject({ deleted: 6, keptChanged: 0, keptClinician: 1 });
    expect(await descriptions()).toEqual(['Entered by hand']);
    const warning = logger.events.findIndex((e) => e.event === 'rollback.include_changed');
    expect(warning).toBeGreaterThanOrEqual(0);
    expect(logger.events[warning]?.level).toBe('warn');
    expect(logger.events[warning]?.fields).toMatchObject({ changedGoals: 2 });
  });

  it('drops an interrupted run’s checkpoint, so no later run resumes past deleted goals', async () => {
    await db.knex('goal_backfill_runs').insert({
      invoked_by: 'cli',
      status: 'interrupted',
      batch_size: 10,
      cursor_patient_id: patient,
      cursor_session_date: '2024-01-01T00:00:00Z',
      cursor_session_id: patient,
    });
    const result = await rollbackBackfill({ knex: db.knex, logger: silentLogger });
    expect(result.checkpointsAbandoned).toBe(1);
    const rerun = await runBackfill({ knex: db.knex, logger: silentLogger });
    expect(rerun.resumed).toBe(false);
    expect(rerun.goalsCreated).toBe(4);
  });
});

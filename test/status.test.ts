import { beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../src/backfill/run';
import { silentLogger } from '../src/logging';
import { getBackfillStatus } from '../src/status';
import { expectGoalsToEqualModel, runStoppedAfterFirstPage } from './support/backfill-assertions';
import { insertClinicianGoal, insertSessions, insertUsers } from './support/fixtures';
import { type ModelSession, modelBackfill } from './support/reference-model';
import { type TestDatabase, useMigratedDatabase } from './support/test-database';

let db: TestDatabase;
let sessions: ModelSession[];

useMigratedDatabase((created) => {
  db = created;
});

beforeEach(async () => {
  const patients = await insertUsers(db.knex, 7, 'patient');
  sessions = await insertSessions(
    db.knex,
    Array.from({ length: 200 }, (_, i) => ({
      patientId: patients[i % 7] ?? '',
      sessionDate: new Date(Date.UTC(2024, 0, 1 + (i % 120))).toISOString(),
      notes: { action_items: [{ task: `Task ${i % 11}` }, { task: `Own ${i}` }, { task: '' }] },
    })),
  );
});

describe('an interrupted run', () => {
  it('stops after the current page on abort, keeps its checkpoint, and is resumed to the same end state', async () => {
    const controller = new AbortController();
    const first = await runBackfill({
      knex: db.knex,
      logger: silentLogger,
      batchSize: 30,
      invokedBy: 'cli',
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.sessionsProcessed >= 90) controller.abort();
      },
    });
    expect(first).toMatchObject({ outcome: 'interrupted', sessionsProcessed: 90 });

    const status = await getBackfillStatus({ knex: db.knex });
    expect(status.resumableRun).toMatchObject({ id: first.runId, status: 'interrupted' });
    expect(status.resumableRun?.checkpoint).not.toBeNull();
    expect(status.lockHolder).toBeNull();

    const resumed = await runBackfill({ knex: db.knex, logger: silentLogger, batchSize: 30 });
    expect(resumed).toMatchObject({ resumed: true, runId: first.runId, outcome: 'completed' });
    const model = modelBackfill(sessions);
    expect(resumed.sessionsProcessed).toBe(200);
    expect(resumed.goalsCreated).toBe(model.counts.goalsCreated);
    expect(resumed.duplicatesSkipped).toBe(model.counts.duplicatesSkipped);
    await expectGoalsToEqualModel(db.knex, model.goals);

    const after = await getBackfillStatus({ knex: db.knex });
    expect(after.resumableRun).toBeNull();
    expect(after.recentRuns[0]).toMatchObject({
      id: first.runId,
      status: 'succeeded',
      resumeCount: 1,
      checkpoint: null,
    });
  });

  it('is set aside by fromStart, which reads everything again', async () => {
    const first = await runStoppedAfterFirstPage(db.knex, 50);
    const again = await runBackfill({ knex: db.knex, logger: silentLogger, fromStart: true });
    expect(again.resumed).toBe(false);
    expect(again.sessionsProcessed).toBe(200);
    expect(again.goalsCreated).toBe(
      modelBackfill(sessions).counts.goalsCreated - first.goalsCreated,
    );
    const runs = await getBackfillStatus({ knex: db.knex });
    expect(runs.recentRuns.map((run) => run.status)).toEqual(['succeeded', 'abandoned']);
  });
});

describe('getBackfillStatus', () => {
  it('lists as many runs as limit says, and refuses a limit outside the spec in one ConfigError', async () => {
    for (let run = 0; run < 3; run += 1) {
      await runBackfill({ knex: db.knex, logger: silentLogger, invokedBy: 'cli' });
    }
    expect((await getBackfillStatus({ knex: db.knex, limit: 2 })).recentRuns).toHaveLength(2);
    expect((await getBackfillStatus({ knex: db.knex })).recentRuns).toHaveLength(3);
    for (const limit of [0, 1.5, 1001]) {
      await expect(getBackfillStatus({ knex: db.knex, limit })).rejects.toMatchObject({
        name: 'ConfigError',
        message: expect.stringContaining('limit must be a whole number from 1 to 1000'),
      });
    }
  });

  it('lists recent runs newest first and counts goals by provenance', async () => {
    await insertClinicianGoal(db.knex, {
      patientId: sessions[0]?.patientId ?? '',
      description: 'By hand',
    });
    await runBackfill({ knex: db.knex, logger: silentLogger, invokedBy: 'migration' });
    await db
      .knex('treatment_goals')
      .where({ description: 'Own 0' })
      .update({ status: 'completed' });
    await runBackfill({ knex: db.knex, logger: silentLogger, invokedBy: 'cli' });

    const status = await getBackfillStatus({ knex: db.knex, limit: 5 });
    expect(status.recentRuns.map((run) => [run.invokedBy, run.status])).toEqual([
      ['cli', 'succeeded'],
      ['migration', 'succeeded'],
    ]);
    expect(status.recentRuns[1]?.counts.goalsCreated).toBe(
      modelBackfill(sessions).counts.goalsCreated,
    );
    expect(status.goals).toEqual({
      unchangedBackfill: modelBackfill(sessions).counts.goalsCreated - 1,
      changedBackfill: 1,
      clinician: 1,
      seed: 0,
    });
    expect(status.resumableRun).toBeNull();
  });
});

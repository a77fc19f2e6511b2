import type { Knex } from 'knex';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { WORKERS_LOCK_KEY } from '../../src/db/advisory-lock';
import { BackfillLockedError, ConfigError } from '../../src/errors';
import { silentLogger } from '../../src/logging';
import { startBin, waitFor } from '../cli/bin-process';
import {
  expectCountsToEqualModel,
  expectGoalsToEqualModel,
  expectReconciled,
} from '../support/backfill-assertions';
import { CapturingLogger } from '../support/capturing-logger';
import { holdBackfillLock, installRejectingTrigger } from '../support/database-faults';
import {
  countRows,
  type InsertedSession,
  insertClinicianGoal,
  insertSessions,
  insertUsers,
  type JsonValue,
  type SessionSpec,
} from '../support/fixtures';
import { modelBackfill, pairKey } from '../support/reference-model';
import { runCommand } from '../support/run-command';
import {
  knexFor,
  onPglite,
  type TestDatabase,
  useMigratedDatabase,
} from '../support/test-database';

let db: TestDatabase;
useMigratedDatabase((created) => {
  db = created;
});

/** A pool with room for four workers and the test's own queries. */
let runner: Knex;
beforeAll(() => {
  runner = knexFor(db.url, 8);
});
afterAll(async () => {
  await runner.destroy();
});

const MARKER = 'PHI-WORKER-MARKER';
const TASKS = ['Walk daily', ' Walk daily ', 'Sleep log', 'Journal', 'Breathing', 'Call sister'];

let patients: string[];
let sessions: InsertedSession[];

/**
 * Sessions of 40 patients, in an order unrelated to their dates, with the same task repeated
 * across a patient's sessions (so the earliest must win), blank and malformed items, and a
 * clinician goal that already covers one pair.
 */
async function insertData(count: number): Promise<void> {
  patients = await insertUsers(db.knex, 40, 'patient');
  const notesOf = (i: number): JsonValue =>
    i % 23 === 0
      ? { action_items: 'not a list' }
      : {
          action_items: [
            { task: TASKS[i % TASKS.length] ?? '', category: i % 3 === 0 ? 'Exercise' : '' },
            { task: `Task ${i % 13}`, details: `note ${i}` },
            ...(i % 5 === 0 ? [{ task: '   ' }, 42] : []),
          ],
        };
  const specs: SessionSpec[] = Array.from({ length: count }, (_, i) => ({
    patientId: patients[(i * 7) % patients.length] ?? '',
    sessionDate: new Date(
      Date.UTC(2024, (i * 5) % 12, 1 + ((i * 11) % 28), 9, i % 60),
    ).toISOString(),
    notes: notesOf(i),
  }));
  sessions = await insertSessions(db.knex, specs);
}

function readRun(knex: Knex) {
  return knex('goal_backfill_runs').first('status', 'counts', 'read_pass');
}

/** Sessions the lanes of a split run have saved as read, all lanes together (0 when not split). */
function sessionsSavedInLanes(run: { read_pass?: { split?: { lanes: unknown[] } } } | undefined) {
  const lanes = (run?.read_pass?.split?.lanes ?? []) as { counts: { sessionsProcessed: number } }[];
  return lanes.reduce((sum, lane) => sum + lane.counts.sessionsProcessed, 0);
}

describe.skipIf(onPglite).each([2, 4])('a backfill with %i workers', (workers) => {
  beforeEach(async () => {
    await insertData(1500);
  });

  it('writes the goals of a single reader, earliest occurrence first, on as many connections', async () => {
    const existing = sessions[0] as InsertedSession;
    await insertClinicianGoal(db.knex, {
      patientId: existing.patientId,
      description: 'Walk daily',
    });
    const connections: number[] = [];
    const workersHolding: number[] = [];
    const logger = new CapturingLogger();
    const result = await runBackfill({
      knex: runner,
      logger,
      batchSize: 37,
      workers,
      backoffMs: 60_000,
      onProgress: () => {
        void db.knex
          .raw(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND application_name LIKE 'goal-backfill library%'
                AND state <> 'idle'`,
          )
          .then((r) => connections.push(r.rows[0].n as number));
        void db.knex
          .raw(
            `SELECT count(*)::int AS n FROM pg_locks
              WHERE locktype = 'advisory' AND objid = CAST(? AS oid) AND mode = 'ShareLock' AND granted
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
            [WORKERS_LOCK_KEY],
          )
          .then((r) => workersHolding.push(r.rows[0].n as number));
      },
    });
    const model = modelBackfill(sessions, new Set([pairKey(existing.patientId, 'Walk daily')]));
    expect(result.outcome).toBe('completed');
    expectCountsToEqualModel(result, model.counts);
    await expectGoalsToEqualModel(db.knex, model.goals);
    expect(logger.named('backfill.workers')[0]?.fields).toMatchObject({ workers, lanes: workers });
    expect(Math.max(...connections)).toBeGreaterThan(1);
    // Every worker but the lock holder holds the workers' lock shared, and lets go at the end.
    expect(Math.max(...workersHolding)).toBe(workers - 1);
    const after = await db.knex.raw(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = CAST(? AS oid)
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [WORKERS_LOCK_KEY],
    );
    expect(after.rows[0].n).toBe(0);
    // Workers wait on each other's run-record updates, never on app queries: no back-off.
    expect(logger.named('backfill.backoff')).toEqual([]);
    // What the run record says, read back from the table, is what it did.
    const run = await readRun(db.knex);
    expect(run.status).toBe('succeeded');
    expect(run.read_pass).toBeNull();
    expect(run.counts).toMatchObject({
      sessionsProcessed: 1500,
      goalsCreated: model.counts.goalsCreated,
      duplicatesSkipped: model.counts.duplicatesSkipped,
    });
    expect(await countRows(db.knex, 'treatment_goals')).toBe(model.counts.goalsCreated + 1);
  });

  it('counts in a dry run exactly what the real run then writes', async () => {
    const dry = await runBackfill({
      knex: runner,
      logger: silentLogger,
      batchSize: 29,
      workers,
      dryRun: true,
    });
    expect(await countRows(db.knex, 'treatment_goals')).toBe(0);
    expect(await countRows(db.knex, 'goal_backfill_runs')).toBe(0);
    const real = await runBackfill({ knex: runner, logger: silentLogger, batchSize: 29, workers });
    const model = modelBackfill(sessions);
    expectCountsToEqualModel(dry, model.counts);
    expectCountsToEqualModel(real, model.counts);
  });

  it('isolates the sessions the database rejects, in every lane, and never repeats their text', async () => {
    const marked = [3, 400, 777, 1100, 1499];
    for (const index of marked) {
      const session = sessions[index] as InsertedSession;
      await db
        .knex('therapy_sessions')
        .where({ id: session.id })
        .update({
          extracted_notes: { action_items: [{ task: `${MARKER} ${index}`, details: MARKER }] },
        });
      session.notes = { action_items: [{ task: `${MARKER} ${index}`, details: MARKER }] };
    }
    await installRejectingTrigger(db.knex, MARKER);
    const logger = new CapturingLogger();
    const result = await runBackfill({ knex: runner, logger, batchSize: 50, workers });
    expect(result.errors).toBe(marked.length);
    expect(result.itemsInFailedSessions).toBe(marked.length);
    expectReconciled(result);
    const failed = await db.knex('goal_backfill_failures').pluck('session_id');
    expect(failed.sort()).toEqual(marked.map((i) => (sessions[i] as InsertedSession).id).sort());
    const others = modelBackfill(sessions.filter((_, i) => !marked.includes(i)));
    await expectGoalsToEqualModel(db.knex, others.goals);
    expect(logger.text()).not.toContain(MARKER);
    expect(JSON.stringify(await db.knex('goal_backfill_failures').select())).not.toContain(MARKER);
  });

  it('reconnects a worker whose connection is terminated, and ends exactly like an uninterrupted run', async () => {
    const logger = new CapturingLogger();
    let terminated = false;
    const result = await runBackfill({
      knex: runner,
      logger,
      batchSize: 37,
      workers,
      onProgress: (progress) => {
        if (terminated || progress.sessionsProcessed < 300) return;
        terminated = true;
        void db.knex
          .raw(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = current_database() AND application_name = 'goal-backfill library worker 2'`,
          )
          .then(() => undefined);
      },
    });
    expect(terminated).toBe(true);
    expect(logger.named('backfill.reconnected').map((e) => e.fields?.worker)).toContain(2);
    const model = modelBackfill(sessions);
    expect(result.outcome).toBe('completed');
    expectCountsToEqualModel(result, model.counts);
    await expectGoalsToEqualModel(db.knex, model.goals);
    const run = await readRun(db.knex);
    expect(run.counts).toMatchObject({
      sessionsProcessed: 1500,
      goalsCreated: model.counts.goalsCreated,
      duplicatesSkipped: model.counts.duplicatesSkipped,
    });
  });

  it('is refused while another backfill holds the lock, writing nothing', async () => {
    await holdBackfillLock(db.url, async () => {
      await expect(
        runBackfill({ knex: runner, logger: silentLogger, workers }),
      ).rejects.toBeInstanceOf(BackfillLockedError);
    });
    expect(await countRows(db.knex, 'treatment_goals')).toBe(0);
    expect(await countRows(db.knex, 'goal_backfill_runs')).toBe(0);
  });

  it('stops on request with each lane saved, and resumes them with another worker count', async () => {
    const controller = new AbortController();
    const stopped = await runBackfill({
      knex: runner,
      logger: silentLogger,
      batchSize: 40,
      workers,
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.sessionsProcessed >= 300) controller.abort();
      },
    });
    expect(stopped.outcome).toBe('interrupted');
    const saved = await readRun(db.knex);
    expect(saved.status).toBe('interrupted');
    expect(saved.read_pass.split.lanes).toHaveLength(workers);
    const savedSessions = sessionsSavedInLanes(saved);
    expect(savedSessions).toBe(stopped.sessionsProcessed);
    expect(savedSessions).toBeLessThan(1500);

    const resumed = await runBackfill({
      knex: runner,
      logger: silentLogger,
      batchSize: 40,
      workers: workers === 2 ? 1 : 3,
    });
    expect(resumed.resumed).toBe(true);
    const model = modelBackfill(sessions);
    expectCountsToEqualModel(resumed, model.counts);
    await expectGoalsToEqualModel(db.knex, model.goals);
  });
});

describe.skipIf(onPglite).each([2, 4])(
  'goal-backfill run --workers %i killed with SIGKILL',
  (workers) => {
    beforeEach(async () => {
      await insertData(4000);
    });

    it('resumes every lane where it stopped, to the goals and counts of an uninterrupted run', async () => {
      const env = { DATABASE_URL: db.url, GOAL_BACKFILL_LOG_LEVEL: 'warn' };
      const args = ['run', '--workers', String(workers), '--batch-size', '20', '--pause-ms', '20'];
      // Killed twice, at different points, then left to finish.
      for (const killAt of [400, 1600]) {
        const run = startBin(args, env);
        await waitFor(async () => {
          return sessionsSavedInLanes(await readRun(db.knex)) >= killAt;
        }, 60_000);
        run.child.kill('SIGKILL');
        await run.done;
        const saved = await readRun(db.knex);
        expect(saved.status).toBe('running');
        const lanes = saved.read_pass.split.lanes as { cursor: unknown; done: boolean }[];
        expect(lanes).toHaveLength(workers);
        // Every lane that has read a page kept its own cursor.
        expect(lanes.filter((lane) => lane.cursor !== null).length).toBeGreaterThan(1);
      }
      const finished = await startBin(['run', '--workers', String(workers), '--json'], env, 120_000)
        .done;
      expect(finished.code).toBe(0);
      const summary = JSON.parse(finished.stdout);
      const model = modelBackfill(sessions);
      expect(summary).toMatchObject({
        resumed: true,
        outcome: 'completed',
        sessionsProcessed: 4000,
        goalsCreated: model.counts.goalsCreated,
        duplicatesSkipped: model.counts.duplicatesSkipped,
        invalidSkipped: model.counts.invalidSkipped,
        errors: 0,
      });
      await expectGoalsToEqualModel(db.knex, model.goals);
      const run = await readRun(db.knex);
      expect(run.status).toBe('succeeded');
      expect(run.counts).toMatchObject({
        sessionsProcessed: 4000,
        goalsCreated: model.counts.goalsCreated,
      });
    });
  },
);

describe.skipIf(onPglite)('npx knex migrate:latest with GOAL_BACKFILL_WORKERS=4', () => {
  it('backfills with four workers, to the goals and the run record of one', async () => {
    await db.knex.migrate.down();
    await insertData(2000);
    const migrated = await runCommand('npx', ['knex', 'migrate:latest'], {
      DATABASE_URL: db.url,
      GOAL_BACKFILL_WORKERS: '4',
      GOAL_BACKFILL_BATCH_SIZE: '100',
      GOAL_BACKFILL_LOG_LEVEL: 'info',
    });
    expect(migrated.code).toBe(0);
    expect(migrated.stderr).toMatch(/backfill\.workers .*workers=4 lanes=4/);
    const model = modelBackfill(sessions);
    await expectGoalsToEqualModel(db.knex, model.goals);
    const run = await readRun(db.knex);
    expect(run.status).toBe('succeeded');
    expect(run.counts).toMatchObject({
      sessionsProcessed: 2000,
      goalsCreated: model.counts.goalsCreated,
      duplicatesSkipped: model.counts.duplicatesSkipped,
      invalidSkipped: model.counts.invalidSkipped,
    });
  });
});

describe('workers and the pool', () => {
  it('refuses more workers than the Knex pool allows, before touching the database', async () => {
    const small = knexFor(db.url, 2);
    try {
      await expect(runBackfill({ knex: small, logger: silentLogger, workers: 3 })).rejects.toThrow(
        ConfigError,
      );
      await expect(runBackfill({ knex: small, logger: silentLogger, workers: 3 })).rejects.toThrow(
        'raise pool.max to at least 3',
      );
    } finally {
      await small.destroy();
    }
    expect(await countRows(db.knex, 'goal_backfill_runs')).toBe(0);
  });
});

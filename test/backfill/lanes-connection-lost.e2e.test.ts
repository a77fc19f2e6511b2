import type { Knex } from 'knex';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import type { BackfillResult } from '../../src/backfill/store';
import {
  BACKFILL_LOCK_KEY,
  RECONNECT_LOCK_WAIT_MS,
  WORKERS_LOCK_KEY,
} from '../../src/db/advisory-lock';
import { BackfillLockedError, BackfillRunFailedError } from '../../src/errors';
import { silentLogger } from '../../src/logging';
import { startBin, waitFor } from '../cli/bin-process';
import { expectCountsToEqualModel, expectGoalsToEqualModel } from '../support/backfill-assertions';
import { CapturingLogger } from '../support/capturing-logger';
import { holdWorkersLock, severClientSide } from '../support/database-faults';
import {
  type InsertedSession,
  insertSessions,
  insertUsers,
  type JsonValue,
  type SessionSpec,
} from '../support/fixtures';
import { modelBackfill } from '../support/reference-model';
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

/** A pool with room for three workers and the test's own queries. */
let runner: Knex;
beforeAll(() => {
  runner = knexFor(db.url, 6);
});
afterAll(async () => {
  await runner.destroy();
});

const TASKS = ['Walk daily', ' Walk daily ', 'Sleep log', 'Journal', 'Breathing', 'Call sister'];

let sessions: InsertedSession[];

/**
 * Sessions of 30 patients in an order unrelated to their dates, with tasks repeated across a
 * patient's sessions (the earliest must win), and blank and malformed items.
 */
async function insertData(count: number): Promise<void> {
  const patients = await insertUsers(db.knex, 30, 'patient');
  const notesOf = (i: number): JsonValue =>
    i % 19 === 0
      ? { action_items: 'not a list' }
      : {
          action_items: [
            { task: TASKS[i % TASKS.length] ?? '', category: i % 3 === 0 ? 'Exercise' : '' },
            { task: `Task ${i % 11}`, details: `note ${i}` },
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

/**
 * Ends the backends whose application_name is one of `names`, but `sparedPid`; resolves how
 * many it ended.
 */
async function terminate(names: string[], sparedPid = 0): Promise<number> {
  const ended = await db.knex.raw(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = ANY(string_to_array(?, ','))
        AND pid <> ?`,
    [names.join(','), sparedPid],
  );
  return ended.rows[0].n as number;
}

/** The run record and the goals, read back from the tables, are those of the model. */
async function expectRunToEqualModel(total: number): Promise<void> {
  const model = modelBackfill(sessions);
  await expectGoalsToEqualModel(db.knex, model.goals);
  const runs = await db.knex('goal_backfill_runs').select('status', 'counts', 'read_pass');
  expect(runs).toHaveLength(1);
  expect(runs[0]?.status).toBe('succeeded');
  expect(runs[0]?.read_pass).toBeNull();
  expect(runs[0]?.counts).toMatchObject({
    sessionsProcessed: total,
    sessionsWithActionItems: model.counts.sessionsWithActionItems,
    itemsSeen: model.counts.itemsSeen,
    goalsCreated: model.counts.goalsCreated,
    duplicatesSkipped: model.counts.duplicatesSkipped,
    invalidSkipped: model.counts.invalidSkipped,
  });
}

/** No session in this database but `sparedPid` holds either lock. */
async function expectNoLockLeft(sparedPid = 0): Promise<void> {
  const held = await db.knex.raw(
    `SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND objid IN (CAST(? AS oid), CAST(? AS oid))
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND pid <> ?`,
    [BACKFILL_LOCK_KEY, WORKERS_LOCK_KEY, sparedPid],
  );
  expect(held.rows[0].n).toBe(0);
}

// Terminating a backend needs a server, and workers need more than PGlite's one connection.
describe.skipIf(onPglite).each([2, 3])(
  'a backfill with %i workers whose connections are terminated',
  (workers) => {
    beforeEach(async () => {
      await insertData(1800);
    });

    /**
     * Runs the backfill and, once `after` sessions are read (every lane is then still mid-way:
     * each holds about 1800 / workers), ends the backends named `names`.
     */
    async function runTerminating(names: string[], after = 300) {
      const logger = new CapturingLogger();
      let termination: Promise<number> | null = null;
      const result = await runBackfill({
        knex: runner,
        logger,
        batchSize: 30,
        workers,
        onProgress: (progress) => {
          if (termination === null && progress.sessionsProcessed >= after) {
            termination = terminate(names);
          }
        },
      });
      expect(await termination).toBe(names.length);
      return { result, logger };
    }

    const reconnectedWorkers = (logger: CapturingLogger) =>
      logger.named('backfill.reconnected').map((e) => e.fields?.worker);

    it('goes on when the lock holder loses its connection, to the goals and counts of the model', async () => {
      const { result, logger } = await runTerminating(['goal-backfill library']);
      // The lock holder reads the first lane: it reconnected while its workers held on.
      expect(reconnectedWorkers(logger)).toEqual([1]);
      expect(result.outcome).toBe('completed');
      expectCountsToEqualModel(result, modelBackfill(sessions).counts);
      await expectRunToEqualModel(1800);
      await expectNoLockLeft();
    });

    it('goes on when the lock holder and a worker lose theirs at once', async () => {
      const { result, logger } = await runTerminating([
        'goal-backfill library',
        `goal-backfill library worker ${workers}`,
      ]);
      expect(reconnectedWorkers(logger).sort()).toEqual([1, workers]);
      expect(result.outcome).toBe('completed');
      expectCountsToEqualModel(result, modelBackfill(sessions).counts);
      await expectRunToEqualModel(1800);
      await expectNoLockLeft();
    });
  },
);

describe.skipIf(onPglite)(
  'a backfill whose connection is lost beside a session of another run',
  () => {
    beforeEach(async () => {
      await insertData(1800);
    });

    /**
     * Runs the backfill with two workers until 300 sessions are read; then a session of another
     * run, named like this run's own second worker, takes the workers' lock, and the backend named
     * `lost` is ended. Resolves the run's error and that session's pid.
     */
    async function runBesideStraggler(lost: string) {
      let straggler: Promise<Awaited<ReturnType<typeof holdWorkersLock>>> | null = null;
      let termination: Promise<number> | null = null;
      const error = await runBackfill({
        knex: runner,
        logger: silentLogger,
        batchSize: 30,
        workers: 2,
        onProgress: (progress) => {
          if (straggler !== null || progress.sessionsProcessed < 300) return;
          straggler = holdWorkersLock(db.url, 'goal-backfill library worker 2');
          termination = straggler.then((session) => terminate([lost], session.pid));
        },
      }).catch((e: unknown) => e);
      const session = await (straggler as unknown as ReturnType<typeof holdWorkersLock>);
      try {
        expect(await termination).toBe(1);
        // The run stopped while the session still held the workers' lock: nothing of it is left.
        await expectNoLockLeft(session.pid);
      } finally {
        await session.release();
      }
      return { error, stragglerPid: session.pid };
    }

    /** The run stopped on the other run's session, after the whole wait, and says so in its record. */
    async function expectStoppedBy(error: unknown, stragglerPid: number) {
      expect(error).toBeInstanceOf(BackfillRunFailedError);
      const cause = (error as BackfillRunFailedError).cause;
      expect(cause).toBeInstanceOf(BackfillLockedError);
      expect((cause as BackfillLockedError).holder.pid).toBe(stragglerPid);
      expect((cause as BackfillLockedError).waitedMs).toBeGreaterThanOrEqual(
        RECONNECT_LOCK_WAIT_MS,
      );
      const [run] = await db.knex('goal_backfill_runs').select('status', 'error_code');
      expect(run).toMatchObject({ status: 'interrupted', error_code: 'LOCKED' });
    }

    it('the reconnecting lock holder never takes it for one of its own workers', async () => {
      const { error, stragglerPid } = await runBesideStraggler('goal-backfill library');
      await expectStoppedBy(error, stragglerPid);
    });

    it('a reconnecting worker never rejoins beside it', async () => {
      const { error, stragglerPid } = await runBesideStraggler('goal-backfill library worker 2');
      await expectStoppedBy(error, stragglerPid);
    });
  },
);

describe.skipIf(onPglite)(
  'a backfill whose lock holder loses its connection on its side only',
  () => {
    it('ends the session the server still has, then goes on to the goals and counts of the model', async () => {
      await insertData(1800);
      // The test holds the run record's row, so that every page waits on it; the lock holder's
      // session, waiting too, lives on after its socket is cut, holding the backfill lock.
      const blocker = await db.knex.transaction();
      let fault: Promise<void> | null = null;
      const result = await runBackfill({
        knex: runner,
        logger: silentLogger,
        batchSize: 30,
        workers: 2,
        // Long enough that the waiting session never gives up by itself during the test.
        lockTimeoutMs: 60_000,
        onProgress: (progress) => {
          if (fault !== null || progress.sessionsProcessed < 300) return;
          fault = (async () => {
            try {
              await blocker.raw('SELECT 1 FROM goal_backfill_runs FOR UPDATE');
              let pid = 0;
              await waitFor(async () => {
                const waiting = await db.knex.raw(
                  `SELECT pid FROM pg_stat_activity
                    WHERE datname = current_database() AND wait_event_type = 'Lock'
                      AND application_name = 'goal-backfill library'`,
                );
                pid = waiting.rows[0]?.pid ?? 0;
                return pid !== 0;
              });
              expect(severClientSide(runner, pid)).toBe(true);
              // The run ends the session it lost; only then does the test let the pages go on.
              await waitFor(async () => {
                const left = await db.knex.raw('SELECT 1 FROM pg_stat_activity WHERE pid = ?', [
                  pid,
                ]);
                return left.rows.length === 0;
              });
            } finally {
              await blocker.commit();
            }
          })();
        },
      }).catch((e: unknown) => e);
      await fault;
      expect(result).not.toBeInstanceOf(Error);
      expect((result as BackfillResult).outcome).toBe('completed');
      expectCountsToEqualModel(result as BackfillResult, modelBackfill(sessions).counts);
      await expectRunToEqualModel(1800);
      await expectNoLockLeft();
    });
  },
);

/** Sessions the lanes of a split run have saved as read, all lanes together. */
async function sessionsSavedInLanes(): Promise<number> {
  const run = await db.knex('goal_backfill_runs').first('read_pass');
  const lanes = (run?.read_pass?.split?.lanes ?? []) as {
    counts: { sessionsProcessed: number };
  }[];
  return lanes.reduce((sum, lane) => sum + lane.counts.sessionsProcessed, 0);
}

describe.skipIf(onPglite).each([2, 3])(
  'goal-backfill run --workers %i whose lock holder is terminated',
  (workers) => {
    it('exits 0 with the goals and counts of the model', async () => {
      await insertData(3000);
      const run = startBin(
        ['run', '--workers', String(workers), '--batch-size', '20', '--pause-ms', '20', '--json'],
        { DATABASE_URL: db.url, GOAL_BACKFILL_LOG_LEVEL: 'warn' },
        120_000,
      );
      // Each lane holds 3000 / workers sessions: at 300 read, every lane is mid-way.
      await waitFor(async () => (await sessionsSavedInLanes()) >= 300, 60_000);
      expect(await terminate(['goal-backfill cli'])).toBe(1);
      const finished = await run.done;
      expect(finished.stderr).toMatch(/backfill\.reconnected runId=\S+ worker=1 /);
      expect(finished.code).toBe(0);
      const model = modelBackfill(sessions);
      expect(JSON.parse(finished.stdout)).toMatchObject({
        outcome: 'completed',
        sessionsProcessed: 3000,
        goalsCreated: model.counts.goalsCreated,
        duplicatesSkipped: model.counts.duplicatesSkipped,
        invalidSkipped: model.counts.invalidSkipped,
        errors: 0,
      });
      await expectRunToEqualModel(3000);
      await expectNoLockLeft();
    });
  },
);

describe.skipIf(onPglite)(
  'npx knex migrate:latest with GOAL_BACKFILL_WORKERS=3 whose lock holder and a worker are terminated',
  () => {
    it('completes the deploy with the goals and counts of the model', async () => {
      await db.knex.migrate.down();
      await insertData(3000);
      const migration = runCommand('npx', ['knex', 'migrate:latest'], {
        DATABASE_URL: db.url,
        GOAL_BACKFILL_WORKERS: '3',
        GOAL_BACKFILL_BATCH_SIZE: '20',
        GOAL_BACKFILL_PAUSE_MS: '20',
        GOAL_BACKFILL_LOG_LEVEL: 'warn',
      });
      await waitFor(async () => (await sessionsSavedInLanes()) >= 300, 60_000);
      expect(await terminate(['goal-backfill migration'])).toBe(1);
      await waitFor(async () => (await sessionsSavedInLanes()) >= 900, 60_000);
      expect(await terminate(['goal-backfill migration', 'goal-backfill migration worker 2'])).toBe(
        2,
      );
      const migrated = await migration;
      expect(migrated.stderr).toMatch(/backfill\.reconnected runId=\S+ worker=1 /);
      expect(migrated.code).toBe(0);
      await expectRunToEqualModel(3000);
    });
  },
);

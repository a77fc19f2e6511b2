import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { ChangeCaptureBlockedError } from '../../src/errors';
import type { LogFields, Logger } from '../../src/logging';
import { silentLogger } from '../../src/logging';
import { expectCountsToEqualModel, expectGoalsToEqualModel } from '../support/backfill-assertions';
import {
  countRows,
  type InsertedSession,
  insertSessions,
  insertUsers,
  type SessionSpec,
} from '../support/fixtures';
import { modelBackfill } from '../support/reference-model';
import {
  knexFor,
  onPglite,
  type TestDatabase,
  useMigratedDatabase,
} from '../support/test-database';

/**
 * An app keeps writing sessions while the backfill runs: for patients the cursor has passed
 * and for patients it has not reached. The same run must backfill them all before it reports
 * completed. PGlite has one connection, so there is no second writer there.
 */
let db: TestDatabase;
useMigratedDatabase((created) => {
  db = created;
});

const TASKS = ['Walk daily', 'Sleep log', 'Journal', 'Breathing', 'Read', 'Stretch'];
const PATIENTS = 30;
const INITIAL = 600;

/** Passes every event to `onEvent` and keeps nothing else. */
function listeningLogger(onEvent: (event: string, fields: LogFields | undefined) => void): Logger {
  const log = (event: string, fields?: LogFields) => onEvent(event, fields);
  return { error: log, warn: log, info: log, debug: log };
}

describe.skipIf(onPglite)('sessions written while a run goes', () => {
  it.each([1, 2])(
    'are backfilled by that run (%i workers), behind and ahead of the cursor',
    async (workers) => {
      const patients = (await insertUsers(db.knex, PATIENTS, 'patient')).sort();
      const initial = await insertSessions(
        db.knex,
        Array.from(
          { length: INITIAL },
          (_, i): SessionSpec => ({
            patientId: patients[i % PATIENTS] ?? '',
            sessionDate: new Date(Date.UTC(2024, 0, 1 + (i % 300), 10, 0, 0, i % 7)).toISOString(),
            notes: {
              action_items: [{ task: TASKS[i % TASKS.length] ?? '' }, { task: `T${i % 13}` }],
            },
          }),
        ),
      );

      let processed = 0;
      let stop = false;
      const passes: { pass: number; read: number }[] = [];
      const inserted: InsertedSession[] = [];
      const where = { behind: 0, ahead: 0 };
      const writer: Knex = knexFor(db.url, 1);
      // Later dates than every earlier session: a session dated before a goal's source would
      // leave that goal where it is, as a rerun would.
      let minute = 0;
      const app = async () => {
        try {
          while (!stop) {
            const picks = [0, PATIENTS - 1, Math.floor(Math.random() * PATIENTS)];
            const batch = picks.map((index): SessionSpec => {
              minute += 1;
              const reached = Math.floor((processed / INITIAL) * PATIENTS);
              if (index < reached) where.behind += 1;
              else where.ahead += 1;
              return {
                patientId: patients[index] ?? '',
                sessionDate: new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString(),
                notes: {
                  action_items: [
                    { task: TASKS[minute % TASKS.length] ?? '' },
                    { task: `New ${minute}` },
                  ],
                },
              };
            });
            inserted.push(...(await insertSessions(writer, batch)));
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        } finally {
          await writer.destroy();
        }
      };

      const appDone = app();
      const result = await runBackfill({
        knex: db.knex,
        logger: listeningLogger((event, fields) => {
          if (event === 'backfill.pass_done') {
            passes.push({ pass: Number(fields?.pass), read: Number(fields?.read) });
          }
        }),
        batchSize: 10,
        pauseMs: 15,
        workers,
        onProgress: (progress) => {
          processed = progress.sessionsProcessed;
          // Stop a few pages before the first pass ends, so the last write commits before it does.
          if (processed >= INITIAL - 50) stop = true;
        },
      });
      stop = true;
      await appDone;

      expect(where.behind).toBeGreaterThan(10);
      expect(where.ahead).toBeGreaterThan(10);
      // The first pass reads what existed at the start, the first writes of the app included.
      expect(passes[0]?.pass).toBe(0);
      expect(passes[0]?.read).toBeGreaterThanOrEqual(INITIAL);
      expect(passes[1]?.read).toBeGreaterThan(0);
      expect(passes.at(-1)?.read).toBe(0);

      const all = [...initial, ...inserted];
      expect(await countRows(db.knex, 'therapy_sessions')).toBe(all.length);
      const model = modelBackfill(all);
      expect(result.outcome).toBe('completed');
      expect(result.sessionsProcessed).toBe(all.length);
      expectCountsToEqualModel(result, model.counts);
      await expectGoalsToEqualModel(db.knex, model.goals);
      const [run] = await db
        .knex('goal_backfill_runs')
        .where({ id: result.runId })
        .select('status');
      expect(run?.status).toBe('succeeded');
    },
  );
});

describe.skipIf(onPglite)('a transaction open when the run starts', () => {
  /** The app's transaction: a session at top level and one in a savepoint, not committed yet. */
  async function openAppTransaction(savepointState: 'open' | 'released') {
    const patients = (await insertUsers(db.knex, 4, 'patient')).sort();
    const initial = await insertSessions(
      db.knex,
      Array.from(
        { length: 60 },
        (_, i): SessionSpec => ({
          patientId: patients[i % patients.length] ?? '',
          sessionDate: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
          notes: { action_items: [{ task: TASKS[i % TASKS.length] ?? '' }] },
        }),
      ),
    );
    const writer: Knex = knexFor(db.url, 1);
    const late: SessionSpec[] = [0, 1].map((n) => ({
      patientId: patients[0] ?? '',
      sessionDate: new Date(Date.UTC(2025, 0, 1 + n)).toISOString(),
      notes: { action_items: [{ task: `Late ${n}` }] },
    }));
    const open = await writer.transaction();
    const [{ pid }] = (await open.raw('SELECT pg_backend_pid() AS pid')).rows;
    const inserted = await insertSessions(open, late.slice(0, 1));
    const savepoint = await open.transaction();
    inserted.push(...(await insertSessions(savepoint, late.slice(1))));
    if (savepointState === 'released') await savepoint.commit();
    const commit = async () => {
      if (savepointState === 'open') await savepoint.commit();
      await open.commit();
    };
    return { writer, open, commit, pid: Number(pid), sessions: [...initial, ...inserted] };
  }

  /** Resolves once some backend waits for a lock on therapy_sessions. */
  async function someoneWaitsForSessions(): Promise<void> {
    for (;;) {
      const { rows } = await db.knex.raw(
        `SELECT 1 FROM pg_locks WHERE NOT granted AND relation = 'therapy_sessions'::regclass
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      if (rows.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * The run cannot know which sessions a transaction that is writing them will commit, so it
   * waits for it before its first page (as CREATE INDEX CONCURRENTLY waits for older
   * transactions), each try under lock_timeout. Once it commits, the run reads its sessions.
   */
  it.each(['open', 'released'] as const)(
    'with a savepoint %s: the run waits for it, then reads its sessions',
    async (savepointState) => {
      const app = await openAppTransaction(savepointState);
      const model = modelBackfill(app.sessions);
      try {
        const run = runBackfill({
          knex: db.knex,
          logger: silentLogger,
          batchSize: 5,
          lockTimeoutMs: 1000,
        });
        await someoneWaitsForSessions();
        await app.commit();
        const outcome = await run;
        expect(outcome).toMatchObject({ outcome: 'completed', sessionsProcessed: 62 });
        expectCountsToEqualModel(outcome, model.counts);
        await expectGoalsToEqualModel(db.knex, model.goals);
      } finally {
        await app.writer.destroy();
      }
    },
  );

  it('that stays open: the run refuses in one line naming its pid, and writes nothing', async () => {
    const app = await openAppTransaction('open');
    try {
      const outcome = await runBackfill({
        knex: db.knex,
        logger: silentLogger,
        batchSize: 5,
        lockTimeoutMs: 50,
      }).catch((err: unknown) => err);
      expect(outcome).toBeInstanceOf(ChangeCaptureBlockedError);
      const error = outcome as ChangeCaptureBlockedError;
      expect(error.blockingPids).toContain(app.pid);
      expect(error.message).not.toContain('\n');
      expect(await countRows(db.knex, 'treatment_goals')).toBe(0);
      expect(await countRows(db.knex, 'goal_backfill_runs')).toBe(0);
      const { rows } = await db.knex.raw(
        `SELECT tgname FROM pg_trigger WHERE tgrelid = 'therapy_sessions'::regclass AND NOT tgisinternal`,
      );
      expect(rows).toEqual([]);
    } finally {
      await app.open.rollback();
      await app.writer.destroy();
    }
  });
});

describe.skipIf(onPglite)('a run stopped in a catch-up pass', () => {
  it('resumes in that pass, to exact counts and the goals of the model', async () => {
    const patients = (await insertUsers(db.knex, 5, 'patient')).sort();
    const spec = (i: number, year: number): SessionSpec => ({
      patientId: patients[i % patients.length] ?? '',
      sessionDate: new Date(Date.UTC(year, 0, 1 + i)).toISOString(),
      notes: { action_items: [{ task: TASKS[i % TASKS.length] ?? '' }, { task: `T${year} ${i}` }] },
    });
    const initial = await insertSessions(
      db.knex,
      Array.from({ length: 40 }, (_, i) => spec(i, 2024)),
    );
    const writer: Knex = knexFor(db.url, 1);
    let written: Promise<InsertedSession[]> | null = null;
    let inCatchUp = false;
    const controller = new AbortController();
    try {
      const first = await runBackfill({
        knex: db.knex,
        logger: listeningLogger((event, fields) => {
          if (event === 'backfill.pass_done' && fields?.pass === 0) inCatchUp = true;
        }),
        batchSize: 5,
        pauseMs: 20,
        signal: controller.signal,
        onProgress: (progress) => {
          if (written === null) {
            written = insertSessions(
              writer,
              Array.from({ length: 30 }, (_, i) => spec(i, 2025)),
            );
          }
          // The second page of the first catch-up pass.
          if (inCatchUp && progress.sessionsProcessed >= 50) controller.abort();
        },
      });
      expect(first.outcome).toBe('interrupted');
      const [stopped] = await db.knex('goal_backfill_runs').select('read_pass');
      expect(stopped?.read_pass?.number).toBe(1);
      expect(stopped?.read_pass?.split.lanes[0].cursor).not.toBeNull();

      const result = await runBackfill({ knex: db.knex, logger: silentLogger, batchSize: 5 });
      const all = [...initial, ...(await (written ?? Promise.resolve([])))];
      const model = modelBackfill(all);
      expect(result).toMatchObject({ outcome: 'completed', resumed: true });
      expect(result.sessionsProcessed).toBe(all.length);
      expectCountsToEqualModel(result, model.counts);
      await expectGoalsToEqualModel(db.knex, model.goals);
    } finally {
      await written;
      await writer.destroy();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { silentLogger } from '../../src/logging';
import { SESSION_READ_INDEX } from '../../src/names';
import { expectCountsToEqualModel, expectGoalsToEqualModel } from '../support/backfill-assertions';
import { insertSessions, insertUsers, type SessionSpec } from '../support/fixtures';
import { modelBackfill } from '../support/reference-model';
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

/**
 * Scans of therapy_sessions so far that can read it whole: sequential scans and scans of the
 * reading index (the primary key's serve the foreign keys' lookups), once every backend has
 * reported its own.
 */
async function sessionScans(): Promise<number> {
  // A backend reports its counts at most once a second, when idle: wait until they have held
  // still for over a second (checked every 200 ms).
  let last = -1;
  let still = 0;
  for (let attempt = 0; attempt < 150 && still < 6; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await db.knex.raw('SELECT pg_stat_clear_snapshot()');
    const result = await db.knex.raw(
      `SELECT t.seq_scan + i.idx_scan AS scans
         FROM pg_stat_user_tables t
         JOIN pg_stat_user_indexes i ON i.relid = t.relid AND i.indexrelname = ?
        WHERE t.relname = 'therapy_sessions'`,
      [SESSION_READ_INDEX],
    );
    const scans = Number(result.rows[0]?.scans ?? 0);
    still = scans === last ? still + 1 : 0;
    last = scans;
  }
  return last;
}

/**
 * Resolves once the backend `pid` has left pg_stat_activity, which it does only after it has
 * reported its counts (at most 30 s).
 */
async function waitUntilGone(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 1500; attempt += 1) {
    const result = await db.knex.raw('SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ?', [
      pid,
    ]);
    if (Number(result.rows[0]?.n) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`backend ${pid} did not exit`);
}

describe.skipIf(onPglite)('a run whose catch-up window is empty', () => {
  it('settles it from the check of the first pass, without reading it page by page', async () => {
    const patients = (await insertUsers(db.knex, 20, 'patient')).sort();
    const specs = Array.from(
      { length: 2001 },
      (_, i): SessionSpec => ({
        patientId: patients[i % patients.length] ?? '',
        sessionDate: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString(),
        notes: { action_items: [{ task: `Task ${i % 50}` }] },
      }),
    );
    const sessions = await insertSessions(db.knex, specs);
    await db.knex.raw('ANALYZE therapy_sessions');
    const before = await sessionScans();

    // The run's own pool, closed before the count, so its backend has reported its scans.
    const knex = knexFor(db.url, 1);
    let pages = 0;
    const passes: number[] = [];
    let result: Awaited<ReturnType<typeof runBackfill>>;
    let runPid = 0;
    try {
      result = await runBackfill({
        knex,
        logger: {
          ...silentLogger,
          info: (event, fields) => {
            if (event === 'backfill.pass_done') passes.push(Number(fields?.pass));
          },
        },
        batchSize: 500,
        onProgress: () => {
          pages += 1;
        },
      });
      // The pool's one connection, the run's: its backend reports its scans as it exits.
      runPid = Number((await knex.raw('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
    } finally {
      await knex.destroy();
    }
    await waitUntilGone(runPid);
    const scans = (await sessionScans()) - before;

    const model = modelBackfill(sessions);
    expect(result.outcome).toBe('completed');
    expectCountsToEqualModel(result, model.counts);
    await expectGoalsToEqualModel(db.knex, model.goals);
    expect(passes).toEqual([0, 1]);
    const [run] = await db.knex('goal_backfill_runs').select('status');
    expect(run?.status).toBe('succeeded');
    // Five pages in the first pass (2,001 sessions by 500), one scan for the check after it
    // that also counts the catch-up window, and the two snapshots' counts; no page, check or
    // last census of its own for the empty catch-up pass (three more scans before).
    expect(pages).toBe(5);
    expect(scans).toBeLessThanOrEqual(pages + 3);
  });
});

import { describe, expect, it } from 'vitest';
import { replicationLagSql } from '../../src/backfill/pacing';
import { runBackfill } from '../../src/backfill/run';
import { expectCountsToEqualModel, expectGoalsToEqualModel } from '../support/backfill-assertions';
import { CapturingLogger } from '../support/capturing-logger';
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

/** 30 sessions of three patients, one distinct task each: three full pages of 10. */
async function insertPractice() {
  const patients = (await insertUsers(db.knex, 3, 'patient')).sort();
  const specs = Array.from(
    { length: 30 },
    (_, i): SessionSpec => ({
      patientId: patients[i % patients.length] ?? '',
      sessionDate: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
      notes: { action_items: [{ task: `Task ${i}` }] },
    }),
  );
  return { patients, sessions: await insertSessions(db.knex, specs) };
}

describe.skipIf(onPglite)('an app transaction that waits on a row the run holds', () => {
  it('makes the run back off after that page, logged with its reason', async () => {
    const { patients, sessions } = await insertPractice();
    // The first page of the run waits after its insert, until the app meets its uncommitted
    // goals (a backend blocked by the run's connection), and records whether it did: a
    // condition, not the clock (at most 30 s, which fails the test below).
    await db.knex.raw('CREATE TABLE test_app_waited (blocked boolean NOT NULL)');
    await db.knex.raw(`CREATE FUNCTION test_slow_backfill() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE blocked boolean := false;
      BEGIN
        IF current_setting('application_name') LIKE 'goal-backfill%'
            AND NOT EXISTS (SELECT 1 FROM test_app_waited) THEN
          FOR attempt IN 1..3000 LOOP
            SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                WHERE datname = current_database()
                  AND pg_backend_pid() = ANY(pg_blocking_pids(pid))) INTO blocked;
            EXIT WHEN blocked;
            PERFORM pg_sleep(0.01);
          END LOOP;
          INSERT INTO test_app_waited VALUES (blocked);
        END IF;
        RETURN NULL;
      END $$`);
    await db.knex.raw(`CREATE TRIGGER test_slow_backfill AFTER INSERT ON treatment_goals
      FOR EACH STATEMENT EXECUTE FUNCTION test_slow_backfill()`);
    const app = knexFor(db.url, 1);
    const logger = new CapturingLogger();
    try {
      // The first session in reading order: its goal is in the first page.
      const appInsert = (async () => {
        for (let attempt = 0; attempt < 200; attempt += 1) {
          const sleeping = await app.raw(
            `SELECT count(*) AS n FROM pg_stat_activity
              WHERE datname = current_database() AND application_name LIKE 'goal-backfill%'
                AND wait_event = 'PgSleep'`,
          );
          if (Number(sleeping.rows[0].n) > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        // The page's goals reference the patient, so their inserts hold its row KEY SHARE until
        // the page commits: an app that locks the row for update waits for that.
        await app.raw('SELECT id FROM users WHERE id = ? FOR UPDATE', [patients[0] ?? '']);
      })();
      const result = await runBackfill({ knex: db.knex, logger, batchSize: 10, backoffMs: 200 });
      await appInsert;

      expect(result.outcome).toBe('completed');
      const model = modelBackfill(sessions);
      expectCountsToEqualModel(result, model.counts);
      await expectGoalsToEqualModel(db.knex, model.goals);
      // The app's locking read waited for the first page to commit: the page saw it blocked.
      const waited = await db.knex('test_app_waited').select('blocked');
      expect(waited).toEqual([{ blocked: true }]);
      const backOffs = logger.named('backfill.backoff');
      expect(backOffs.length).toBeGreaterThanOrEqual(1);
      expect(backOffs[0]?.fields).toMatchObject({ reason: 'lock_waiters', delayMs: 200 });
      expect(Number(backOffs[0]?.fields?.measured)).toBeGreaterThanOrEqual(1);
      const [run] = await db.knex('goal_backfill_runs').select('status', 'elapsed_ms');
      expect(run?.status).toBe('succeeded');
      // The back-off was waited.
      expect(Number(run?.elapsed_ms)).toBeGreaterThanOrEqual(200);
    } finally {
      await app.destroy();
    }
  });
});

describe.skipIf(onPglite)('a health query', () => {
  it('carries the replication signal: the run backs off while the replicas lag', async () => {
    const { sessions } = await insertPractice();
    // A view of the same shape as pg_stat_replication, which a server without replicas leaves empty.
    await db.knex.raw('CREATE TABLE test_replication (replay_lag interval)');
    await db.knex.raw("INSERT INTO test_replication VALUES (interval '5 seconds')");
    const healthQuery = replicationLagSql('test_replication', 1000, 100);

    const lagging = new CapturingLogger();
    const startedAt = performance.now();
    const result = await runBackfill({
      knex: db.knex,
      logger: lagging,
      batchSize: 10,
      healthQuery,
    });
    const elapsedMs = performance.now() - startedAt;
    expect(result.outcome).toBe('completed');
    const model = modelBackfill(sessions);
    expectCountsToEqualModel(result, model.counts);
    await expectGoalsToEqualModel(db.knex, model.goals);
    // After each of the three full pages.
    const backOffs = lagging.named('backfill.backoff');
    expect(backOffs.map((e) => e.fields)).toEqual(
      Array.from({ length: 3 }, () =>
        expect.objectContaining({ reason: 'health_query', delayMs: 100, measured: 100 }),
      ),
    );
    expect(elapsedMs).toBeGreaterThanOrEqual(3 * 100);

    await db.knex.raw("UPDATE test_replication SET replay_lag = interval '200 milliseconds'");
    const caughtUp = new CapturingLogger();
    const again = await runBackfill({
      knex: db.knex,
      logger: caughtUp,
      batchSize: 10,
      healthQuery,
    });
    expect(again.outcome).toBe('completed');
    expect(again.goalsCreated).toBe(0);
    expect(caughtUp.named('backfill.backoff')).toEqual([]);
    const runs = await db.knex('goal_backfill_runs').select('status');
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('that fails is logged with its SQLSTATE and never stops the run', async () => {
    const { sessions } = await insertPractice();
    const logger = new CapturingLogger();
    const result = await runBackfill({
      knex: db.knex,
      logger,
      batchSize: 10,
      healthQuery: 'SELECT delay FROM no_such_health_table',
    });
    expect(result.outcome).toBe('completed');
    await expectGoalsToEqualModel(db.knex, modelBackfill(sessions).goals);
    const failed = logger.named('backfill.health_query_failed');
    expect(failed.map((e) => e.fields)).toEqual(
      Array.from({ length: 3 }, () => ({ errorCode: '42P01' })),
    );
    expect(logger.text()).not.toContain('no_such_health_table');
  });
});

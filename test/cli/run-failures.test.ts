import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetData } from '../support/backfill-assertions';
import {
  dropRejectingTrigger,
  holdBackfillLock,
  installRejectingTrigger,
} from '../support/database-faults';
import { tableCounts } from '../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { waitFor } from './bin-process';
import { lockGoalsTable, MARKER, seedKnownSessions } from './cli-fixtures';
import { linesOf, runCli, withoutServer } from './cli-harness';

describe.skipIf(withoutServer)('goal-backfill run when things go wrong', () => {
  let db: TestDatabase;
  let directory: string;
  const env = () => ({ DATABASE_URL: db.url });

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.migrateLatest();
    directory = mkdtempSync(path.join(tmpdir(), 'goal-backfill-cli-'));
  });

  afterAll(async () => {
    await db.drop();
    rmSync(directory, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await resetData(db.knex);
    await dropRejectingTrigger(db.knex);
  });

  describe('a session the database rejects', () => {
    it('exits 1, names the run to look up, and keeps every other goal', async () => {
      await seedKnownSessions(db.knex);
      await installRejectingTrigger(db.knex, MARKER);
      const run = await runCli(['run'], { env: env() });
      expect(run.code).toBe(1);
      const [{ id: runId, status }] = await db.knex('goal_backfill_runs').select('id', 'status');
      expect(status).toBe('completed_with_errors');
      expect(run.stdout).toContain('Errors Encountered: 1\n');
      expect(run.stdout).toContain('Goals Created: 2\n');
      expect(run.stdout).toContain(
        `Failed sessions: 1; their ids and error codes are in table goal_backfill_failures for run ${runId}.`,
      );
      const errors = linesOf(run.stderr).filter((line) => line.startsWith('goal-backfill: error:'));
      expect(errors).toEqual([
        `goal-backfill: error: 1 session(s) failed and were rolled back; their ids and error codes are in table goal_backfill_failures (run_id = '${runId}'). Fix the cause, then run \`goal-backfill run\` again: it retries them and recreates nothing [SESSIONS_FAILED]`,
      ]);
    });

    it('--error-log writes one JSON line per failed session, without any health text', async () => {
      const sessions = await seedKnownSessions(db.knex);
      await installRejectingTrigger(db.knex, MARKER);
      const file = path.join(directory, 'failed.jsonl');
      const run = await runCli(['run', '--error-log', file, '--verbose'], { env: env() });
      expect(run.code).toBe(1);
      const rejected = sessions[4];
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0] ?? '');
      expect(Object.keys(line)).toEqual(['sessionId', 'patientId', 'sqlState', 'message']);
      expect(line).toMatchObject({
        sessionId: rejected?.id,
        patientId: rejected?.patientId,
        sqlState: 'P0001',
      });
      expect(run.stdout).toContain(`Failed sessions: 1; error log: ${file} (also in table`);
      expect(run.stderr).toContain(`their ids and error codes are in ${file} and in table`);
      for (const output of [run.stdout, run.stderr, readFileSync(file, 'utf8')]) {
        expect(output).not.toContain(MARKER);
        expect(output).not.toContain('Journal');
      }
    });

    it('reports the failure as JSON events with --log-format json, without health text', async () => {
      await seedKnownSessions(db.knex);
      await installRejectingTrigger(db.knex, MARKER);
      const run = await runCli(['run', '--log-format', 'json', '--json', '--verbose'], {
        env: env(),
      });
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({ errors: 1, goalsCreated: 2 });
      const events = linesOf(run.stderr).map((line) => JSON.parse(line));
      expect(events.find((event) => event.message === 'cli.error')).toMatchObject({
        level: 'error',
        code: 'SESSIONS_FAILED',
      });
      // winston appends a `message` field to the event name: `backfill.session_failed <condition>`.
      const failed = events.find((event) => event.message.startsWith('backfill.session_failed'));
      expect(failed).toMatchObject({
        sqlState: 'P0001',
      });
      expect(run.stderr).not.toContain(MARKER);
    });

    it('a run after the cause is fixed retries the session and exits 0', async () => {
      await seedKnownSessions(db.knex);
      await installRejectingTrigger(db.knex, MARKER);
      expect((await runCli(['run'], { env: env() })).code).toBe(1);
      await dropRejectingTrigger(db.knex);
      const retry = await runCli(['run', '--json'], { env: env() });
      expect(retry.code).toBe(0);
      expect(JSON.parse(retry.stdout)).toMatchObject({ goalsCreated: 1, errors: 0 });
    });
  });

  it('exits 2 before touching the database when the error log cannot be written', async () => {
    await seedKnownSessions(db.knex);
    const before = await tableCounts(db.knex);
    const run = await runCli(['run', '--error-log', path.join(directory, 'missing', 'x.jsonl')], {
      env: env(),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/goal-backfill: error: cannot write the error log .*\(ENOENT\)/);
    expect(await tableCounts(db.knex)).toEqual(before);
  });

  describe('the lock', () => {
    it('exits 3 when another backfill holds it, naming the holder, and writes nothing', async () => {
      await seedKnownSessions(db.knex);
      await holdBackfillLock(db.url, async (pid) => {
        const before = await tableCounts(db.knex);
        const run = await runCli(['run'], { env: env() });
        expect(run.code).toBe(3);
        expect(run.stdout).toBe('');
        const errors = linesOf(run.stderr).filter((line) => line.startsWith('goal-backfill:'));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toContain('another goal backfill holds the lock');
        expect(errors[0]).toContain(`backend pid ${pid}`);
        expect(errors[0]).toContain('application operator-two');
        expect(errors[0]).toMatch(/\[LOCKED\]$/);
        expect(await tableCounts(db.knex)).toEqual(before);
      });
    });

    it('--lock-wait-ms waits that many milliseconds before giving up', async () => {
      await holdBackfillLock(db.url, async () => {
        const started = Date.now();
        const run = await runCli(['run', '--lock-wait-ms', '600'], { env: env() });
        expect(run.code).toBe(3);
        expect(Date.now() - started).toBeGreaterThanOrEqual(550);
        const waited = Number(/waited (\d+) ms/.exec(run.stderr)?.[1]);
        expect(waited).toBeGreaterThanOrEqual(550);
      });
    });

    it('--lock-wait-ms lets the run go ahead once the holder finishes', async () => {
      await seedKnownSessions(db.knex);
      let held: () => void = () => undefined;
      const lockHeld = new Promise<void>((resolve) => {
        held = resolve;
      });
      // The holder lets go once the run has found the lock held: a connection of the CLI has
      // tried it (its last statement in pg_stat_activity).
      const waiting = holdBackfillLock(db.url, async () => {
        held();
        await waitFor(async () => {
          const { rows } = await db.knex.raw(
            `SELECT count(*) AS n FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()
                AND application_name LIKE 'goal-backfill%'
                AND query LIKE '%pg_try_advisory_lock%'`,
          );
          return Number(rows[0].n) > 0;
        });
      });
      await lockHeld;
      const run = await runCli(['run', '--lock-wait-ms', '20000', '--json'], { env: env() });
      await waiting;
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).goalsCreated).toBe(3);
    });
  });

  describe('timeouts', () => {
    it('--lock-timeout-ms bounds each wait for a table lock; the run stops and exits 1', async () => {
      await seedKnownSessions(db.knex);
      const run = await lockGoalsTable(db.url, () =>
        runCli(['run', '--lock-timeout-ms', '50', '--statement-timeout-ms', '0'], { env: env() }),
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('lock_not_available [55P03]');
      expect(run.stderr).toContain('run the backfill again to resume');
      expect(run.stderr).not.toMatch(/^\s+at /m);
    });

    it('--statement-timeout-ms cancels statements that run too long: the documented RUN_FAILED line, exit 1', async () => {
      await seedKnownSessions(db.knex);
      const started = Date.now();
      const run = await lockGoalsTable(db.url, () =>
        runCli(['run', '--statement-timeout-ms', '1000', '--lock-timeout-ms', '0'], { env: env() }),
      );
      expect(run.code).toBe(1);
      const [record] = await db.knex('goal_backfill_runs').select('id', 'status', 'error_code');
      expect(record).toMatchObject({ status: 'interrupted', error_code: '57014' });
      const errors = linesOf(run.stderr).filter((line) => line.startsWith('goal-backfill: error:'));
      expect(errors).toEqual([
        `goal-backfill: error: backfill run ${record?.id} stopped after 0 session(s): query_canceled [57014]. Its checkpoint is kept: run the backfill again to resume [RUN_FAILED]`,
      ]);
      expect(Date.now() - started).toBeLessThan(45_000);
    });

    it('--statement-timeout-ms below 1000 is refused before connecting: exit 2, nothing written', async () => {
      await seedKnownSessions(db.knex);
      const before = await tableCounts(db.knex);
      const run = await runCli(['run', '--statement-timeout-ms', '1'], { env: env() });
      expect(run.code).toBe(2);
      expect(linesOf(run.stderr)).toEqual([
        'goal-backfill: error: --statement-timeout-ms must be 0 (none) or a whole number of milliseconds from 1000 to 2147483647 (got "1"); see \'goal-backfill run --help\'',
      ]);
      expect(await tableCounts(db.knex)).toEqual(before);
    });
  });
});

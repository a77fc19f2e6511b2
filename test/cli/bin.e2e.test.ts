import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runCommand } from '../support/run-command';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';
import { startBin, waitFor } from './bin-process';
import { lockGoalsTable, MARKER, seedKnownSessions, seedManySessions } from './cli-fixtures';
import { withoutServer } from './cli-harness';

const VERSION = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).version;

/** `npm run backfill -- ...args`, as an operator types it. */
function backfill(args: string[], env: Record<string, string | undefined>) {
  return runCommand('npm', ['run', '--silent', 'backfill', '--', ...args], env);
}

describe('the goal-backfill executable, through npm run backfill', () => {
  it('prints the version', async () => {
    const run = await backfill(['--version'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${VERSION}\n`);
  });

  it('exits 2 with the fix as the first stderr line on a bad flag', async () => {
    const run = await backfill(['status', '--bogus'], { DATABASE_URL: 'postgres://u@h/d' });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(
      "goal-backfill: error: unknown flag or command: bogus; see 'goal-backfill status --help'",
    );
  });

  it('exits 2 naming the host, never the password, when the database is unreachable', async () => {
    const run = await backfill(['run'], {
      DATABASE_URL: 'postgres://postgres:hunter2-secret@127.0.0.1:1/x',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot reach the database at postgres://postgres@127.0.0.1:1/x');
    expect(run.stderr).not.toContain('hunter2-secret');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

describe.skipIf(withoutServer)('the goal-backfill executable on a database', () => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url });

  useMigratedDatabase((created) => {
    db = created;
  });

  it('runs, then reports status', async () => {
    await seedKnownSessions(db.knex);
    const run = await backfill(['run', '--json'], env());
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ goalsCreated: 3, errors: 0 });
    expect(run.stderr).not.toContain(MARKER);
    const status = await backfill(['status'], env());
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Backfilled goals (unchanged): 3');
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'stops after the current page on %s, exits 130 and says how to resume',
    async (signal) => {
      await seedManySessions(db.knex, 3000);
      const bin = startBin(['run', '--batch-size', '20', '--progress-every', '200'], env());
      await waitFor(() => bin.output.stderr.includes('backfill.progress'));
      bin.child.kill(signal);
      const run = await bin.done;
      expect(run.code).toBe(130);
      expect(run.stdout).toContain('GOAL MIGRATION SUMMARY (INTERRUPTED: partial counts)');
      expect(run.stderr).toContain('its checkpoint is kept. Run `goal-backfill run` to resume it');
      const [record] = await db.knex('goal_backfill_runs').select('status');
      expect(record?.status).toBe('interrupted');
    },
  );

  it('exits at once on a second signal', async () => {
    await seedKnownSessions(db.knex);
    expect((await backfill(['run'], env())).code).toBe(0);
    // Past the backfill lock, a rollback finishes its batches on the first signal; here its
    // first read waits behind a table lock, so only the second signal can end it.
    await lockGoalsTable(db.url, async () => {
      const bin = startBin(['rollback'], env());
      await waitFor(async () => {
        const { rows } = await db.knex.raw(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'goal-backfill rollback' AND wait_event_type = 'Lock'",
        );
        return Number(rows[0].n) > 0;
      });
      bin.child.kill('SIGINT');
      await waitFor(() => bin.output.stderr.includes('press Ctrl-C again'));
      bin.child.kill('SIGINT');
      const run = await bin.done;
      expect(run.code).toBe(130);
      expect(run.stderr).toContain('goal-backfill: SIGINT again: stopping now');
    });
  });

  it('draws the progress bar with rate and ETA in a terminal', async () => {
    await seedManySessions(db.knex, 3000);
    const run = await runCommand(
      'script',
      ['-qec', 'npm run --silent backfill -- run --batch-size 25', '/dev/null'],
      env(),
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /\d+% \| \d+\/3000 sessions \| [\d,]+ sessions\/s \| ETA \d+(s|m\d\ds)/,
    );
    expect(run.stdout).toContain('| 3000/3000 sessions |');
    expect(run.stdout).not.toContain('backfill.progress');
    expect(run.stdout).toContain('GOAL MIGRATION SUMMARY');
    expect(run.stdout).not.toContain(MARKER);
  });
});

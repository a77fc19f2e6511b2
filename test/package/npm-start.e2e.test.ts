import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEmbeddedFromFreshProcess } from '../support/embedded-folder';
import { runCommand } from '../support/run-command';

const folder = mkdtempSync(path.join(tmpdir(), 'goal-backfill-start-'));

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe('npm start without DATABASE_URL', () => {
  it('migrates, seeds and backfills the embedded database, ending with the summary report', async () => {
    const dataDirectory = path.join(folder, 'pglite');
    const start = await runCommand(
      'npm',
      ['start', '--silent'],
      {
        DATABASE_URL: undefined,
        GOAL_BACKFILL_DATA_DIR: dataDirectory,
        SEED_SESSIONS: '500',
        GOAL_BACKFILL_LOG_LEVEL: 'info',
        NODE_ENV: undefined,
      },
      180_000,
    );
    expect(start.code).toBe(0);
    expect(start.stderr).toContain('database="embedded PGlite in');
    const report = start.stdout.slice(start.stdout.indexOf('GOAL MIGRATION SUMMARY'));
    expect(report).toMatch(
      /^GOAL MIGRATION SUMMARY\n={70}\nExecution Time: \d+\.\d\d seconds\nSessions Processed: 500\n/,
    );
    expect(report).toContain(
      'Seeded data check: the counts match the 500 sessions the seed generated.',
    );
    // What it printed is what the next process finds: the Knex CLI exits without closing PGlite.
    const goalsCreated = Number(/^Goals Created: (\d+)$/m.exec(report)?.[1]);
    expect(goalsCreated).toBeGreaterThan(0);
    const found = await readEmbeddedFromFreshProcess(dataDirectory);
    expect(found.sessions).toBe(500);
    expect(found.goalsByOrigin.backfill).toBe(goalsCreated);
    expect(found.runs.at(-1)).toEqual({
      status: 'succeeded',
      goalsCreated,
      sessionsProcessed: 500,
      hasCheckpoint: false,
    });
  }, 300_000);

  it('then rolls back with the Knex commands, one batch and then all, with no override, keeping the app tables', async () => {
    const dataDirectory = path.join(folder, 'pglite');
    const env = {
      DATABASE_URL: undefined,
      GOAL_BACKFILL_DATA_DIR: dataDirectory,
      GOAL_BACKFILL_LOG_LEVEL: 'warn',
      NODE_ENV: undefined,
    };
    const before = await readEmbeddedFromFreshProcess(dataDirectory);
    expect(before.goalsByOrigin.seed).toBeGreaterThan(0);

    const rollback = await runCommand('npx', ['knex', 'migrate:rollback'], env, 180_000);
    expect(rollback.code).toBe(0);
    expect(rollback.stderr).not.toMatch(/^\s+at /m);
    const rolledBack = await readEmbeddedFromFreshProcess(dataDirectory);
    expect(rolledBack.goalsByOrigin).toEqual({});
    expect(rolledBack.sessions).toBe(500);

    const all = await runCommand('npx', ['knex', 'migrate:rollback', '--all'], env, 180_000);
    expect(all.code).toBe(0);
    expect((await readEmbeddedFromFreshProcess(dataDirectory)).sessions).toBe(500);
  }, 420_000);
});

import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackfillOptions } from '../../../src/options';
import { temporaryFolder } from '../../support/embedded-folder';
import { type TestDatabase, useMigratedDatabase } from '../../support/test-database';
import { seedKnownSessions } from '../cli-fixtures';
import { linesOf, runCli, withoutServer } from '../cli-harness';

/** What the CLI handed to runBackfill, call by call; the backfill itself runs as usual. */
const calls = vi.hoisted(() => [] as BackfillOptions[]);
vi.mock('../../../src/backfill/run', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/backfill/run')>();
  return {
    ...original,
    runBackfill: (options: BackfillOptions) => {
      calls.push(options);
      return original.runBackfill(options);
    },
  };
});

beforeEach(() => {
  calls.length = 0;
});

describe('goal-backfill run --workers: values refused before anything is opened', () => {
  it.each([
    [['--workers', '0'], '--workers must be a whole number from 1 to 16 (got "0")'],
    [['--workers=0'], '--workers must be a whole number from 1 to 16 (got "0")'],
    [['--workers', '17'], '--workers must be a whole number from 1 to 16 (got "17")'],
    [['--workers', '1.5'], '--workers must be a whole number from 1 to 16 (got "1.5")'],
    [['--workers', 'abc'], '--workers must be a whole number from 1 to 16 (got "abc")'],
    [['--workers'], '--workers needs a value'],
    [['--workers', '2', '--workers', '3'], '--workers was given 2 times: give it once'],
  ])('%j: one usage line, exit 2', async (flags, problem) => {
    const run = await runCli(['run', ...flags], {
      env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^goal-backfill: error: .*${problem.replace(/[.()]/g, '\\$&')}.*; see 'goal-backfill run --help'$`,
        ),
      ),
    ]);
    expect(run.stdout).toBe('');
    expect(calls).toEqual([]);
  });

  it('names --workers beside the other bad flags, in the same line', async () => {
    const run = await runCli(['run', '--workers', '0', '--batch-size', '0'], { env: {} });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('--batch-size must be');
    expect(run.stderr).toContain('--workers must be');
  });

  it('is listed in run --help with its range and default', async () => {
    const help = await runCli(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--workers\s+<n>\s+Connections that backfill at once/);
    expect(help.stdout).toMatch(/needs a PostgreSQL\s+server\) \[1 to 16\]/);
  });
});

describe('goal-backfill run --workers on the embedded database', () => {
  let folder: { root: string; remove: () => void };

  beforeEach(() => {
    folder = temporaryFolder('goal-backfill-workers-');
  });

  afterEach(() => {
    folder.remove();
  });

  it.each([
    [['--workers=2'], '--workers 2'],
    [['--workers', '16', '--dry-run'], '--workers 16'],
  ])('%j: refused in one line, exit 2, before the database is opened', async (flags, setting) => {
    const dataDirectory = path.join(folder.root, 'data', 'pglite');
    const run = await runCli(['run', ...flags], { env: { GOAL_BACKFILL_DATA_DIR: dataDirectory } });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([
      `goal-backfill: error: ${setting}: more than one worker needs a PostgreSQL server, and the ` +
        'embedded database has a single connection; set ' +
        'DATABASE_URL=postgres://user:password@host:5432/database, or run one worker [CONFIG_INVALID]',
    ]);
    expect(calls).toEqual([]);
    expect(existsSync(path.join(folder.root, 'data'))).toBe(false);
  });

  it('--workers 1 opens it as before', async () => {
    const dataDirectory = path.join(folder.root, 'data', 'pglite');
    const run = await runCli(['run', '--workers', '1', '--dry-run'], {
      env: { GOAL_BACKFILL_DATA_DIR: dataDirectory },
    });
    // A new folder has no schema: the run got as far as the database, and was not refused.
    expect(run.stderr).toContain('SCHEMA_NOT_READY');
    expect(existsSync(dataDirectory)).toBe(true);
  });
});

describe.skipIf(withoutServer)('goal-backfill run --workers on a PostgreSQL server', () => {
  let db: TestDatabase;
  useMigratedDatabase((created) => {
    db = created;
  });

  it.each([
    [['--workers=2'], 2],
    [['--workers', '3'], 3],
    [[], 1],
  ])('%j reaches runBackfill as workers %i, with a pool that fits', async (flags, workers) => {
    await seedKnownSessions(db.knex);
    const run = await runCli(['run', '--json', ...flags], { env: { DATABASE_URL: db.url } });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ goalsCreated: 3, errors: 0 });
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.workers).toBe(workers);
    const client = call?.knex.client as { config: { pool: { max: number } } } | undefined;
    expect(client?.config.pool.max).toBe(workers > 1 ? workers + 2 : 2);
  });
});

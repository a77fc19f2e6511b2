import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backfillMigration } from '../../src/migrations';
import type { BackfillOptions } from '../../src/options';
import { temporaryFolder } from '../support/embedded-folder';
import { insertSessions, insertUsers, readGoals } from '../support/fixtures';
import { runCommand } from '../support/run-command';
import { onPglite, type TestDatabase, useMigratedDatabase } from '../support/test-database';

/** What the migration handed to runBackfill, call by call; the backfill itself runs as usual. */
const calls = vi.hoisted(() => [] as BackfillOptions[]);
vi.mock('../../src/backfill/run', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/backfill/run')>();
  return {
    ...original,
    runBackfill: (options: BackfillOptions) => {
      calls.push(options);
      return original.runBackfill(options);
    },
  };
});

let db: TestDatabase;
useMigratedDatabase((created) => {
  db = created;
});

beforeEach(() => {
  calls.length = 0;
});

/** Sets `variables` in process.env for `work`, and puts back what was there. */
async function withEnv<T>(variables: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(
    Object.keys(variables).map((name) => [name, process.env[name]]),
  );
  Object.assign(process.env, variables);
  try {
    return await work();
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** Five sessions of one patient, one distinct task each: pages of 2, 2 and 1 at batch size 2. */
async function insertFiveSessions(): Promise<void> {
  const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
  await insertSessions(
    db.knex,
    Array.from({ length: 5 }, (_, i) => ({
      patientId: patient,
      sessionDate: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
      notes: { action_items: [{ task: `Task ${i}` }] },
    })),
  );
}

function knexCli(args: string[], env: Record<string, string | undefined>) {
  return runCommand('npx', ['knex', ...args], {
    NODE_ENV: undefined,
    GOAL_BACKFILL_LOG_LEVEL: 'info',
    ...env,
  });
}

function eventsOf(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe.skipIf(onPglite)('the backfill migration reads every GOAL_BACKFILL_* option', () => {
  it('hands each one to runBackfill', async () => {
    await insertFiveSessions();
    await withEnv(
      {
        GOAL_BACKFILL_BATCH_SIZE: '2',
        GOAL_BACKFILL_PAUSE_MS: '1',
        GOAL_BACKFILL_MAX_SESSIONS_PER_SECOND: '100000',
        GOAL_BACKFILL_BACKOFF_MS: '5',
        GOAL_BACKFILL_MAX_REPLICATION_LAG_MS: '20000',
        GOAL_BACKFILL_WORKERS: '2',
        GOAL_BACKFILL_HEALTH_QUERY: 'SELECT 0',
        GOAL_BACKFILL_STATEMENT_TIMEOUT_MS: '30000',
        GOAL_BACKFILL_LOCK_TIMEOUT_MS: '1000',
        GOAL_BACKFILL_PROGRESS_EVERY: '0',
      },
      () => backfillMigration().up(db.knex),
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      invokedBy: 'migration',
      batchSize: 2,
      pauseMs: 1,
      maxSessionsPerSecond: 100000,
      backoffMs: 5,
      maxReplicationLagMs: 20000,
      workers: 2,
      healthQuery: 'SELECT 0',
      statementTimeoutMs: 30000,
      lockTimeoutMs: 1000,
      progressEvery: 0,
      // Unset: the migration's own wait for the lock.
      lockWaitMs: 60000,
    });
    expect(await readGoals(db.knex)).toHaveLength(5);
  });

  it('leaves unset ones to the library defaults', async () => {
    await backfillMigration().up(db.knex);
    expect(calls[0]).toMatchObject({
      pauseMs: undefined,
      maxSessionsPerSecond: undefined,
      backoffMs: undefined,
      maxReplicationLagMs: undefined,
      workers: undefined,
      healthQuery: undefined,
    });
  });

  it('refuses bad values in one line naming each variable, before the backfill starts', async () => {
    const up = withEnv(
      {
        GOAL_BACKFILL_PAUSE_MS: '-1',
        GOAL_BACKFILL_WORKERS: '0',
        GOAL_BACKFILL_HEALTH_QUERY: '  ',
      },
      () => backfillMigration().up(db.knex),
    );
    await expect(up).rejects.toThrow(
      'GOAL_BACKFILL_PAUSE_MS must be a whole number of milliseconds from 0 to 3600000 (got "-1"); ' +
        'GOAL_BACKFILL_WORKERS must be a whole number from 1 to 16 (got "0"); ' +
        'GOAL_BACKFILL_HEALTH_QUERY is blank: set it to SQL whose first value is milliseconds to wait, or unset it for none',
    );
    expect(calls).toEqual([]);
  });
});

describe.skipIf(onPglite)('npx knex migrate:latest with GOAL_BACKFILL_* set', () => {
  it('waits GOAL_BACKFILL_PAUSE_MS after each full page and backs off as GOAL_BACKFILL_HEALTH_QUERY answers', async () => {
    await db.knex.migrate.down();
    await insertFiveSessions();
    await db.knex.raw('CREATE TABLE test_health (delay_ms int)');
    await db.knex.raw('INSERT INTO test_health VALUES (150)');
    try {
      const latest = await knexCli(['migrate:latest'], {
        DATABASE_URL: db.url,
        GOAL_BACKFILL_LOG_FORMAT: 'json',
        GOAL_BACKFILL_BATCH_SIZE: '2',
        GOAL_BACKFILL_PAUSE_MS: '400',
        GOAL_BACKFILL_HEALTH_QUERY: 'SELECT delay_ms FROM test_health',
        GOAL_BACKFILL_WORKERS: '2',
      });
      expect(latest.code).toBe(0);
      const events = eventsOf(latest.stderr);
      // Pages of 2, 2 and 1 sessions: a back-off after each of the two full ones.
      const backOffs = events.filter((event) => event.message === 'backfill.backoff');
      expect(backOffs).toHaveLength(2);
      for (const backOff of backOffs) {
        expect(backOff).toMatchObject({ reason: 'health_query', delayMs: 150, measured: 150 });
      }
      // The run waits the longer of the pause and the back-off: 400 ms, twice.
      const finish = events.find((event) => event.message === 'backfill.finish');
      expect(finish).toMatchObject({ outcome: 'completed', goalsCreated: 5, errors: 0 });
      expect(Number(finish?.elapsedMs)).toBeGreaterThanOrEqual(800);
      expect(await readGoals(db.knex)).toHaveLength(5);
    } finally {
      await db.knex.raw('DROP TABLE test_health');
    }
  });

  it('reports bad values of the new variables in one line, with the others', async () => {
    await db.knex.migrate.down();
    const latest = await knexCli(['migrate:latest'], {
      DATABASE_URL: db.url,
      GOAL_BACKFILL_BACKOFF_MS: '1s',
      GOAL_BACKFILL_MAX_REPLICATION_LAG_MS: '86400001',
      GOAL_BACKFILL_MAX_SESSIONS_PER_SECOND: '-5',
      GOAL_BACKFILL_HEALTH_QUERY: '',
    });
    expect(latest.code).not.toBe(0);
    const line = latest.stderr.split('\n').find((text) => text.startsWith('ConfigError: '));
    expect(line).toBe(
      'ConfigError: GOAL_BACKFILL_MAX_SESSIONS_PER_SECOND must be a whole number from 0 to 9007199254740991 (got "-5"); ' +
        'GOAL_BACKFILL_BACKOFF_MS must be a whole number of milliseconds from 0 to 600000 (got "1s"); ' +
        'GOAL_BACKFILL_MAX_REPLICATION_LAG_MS must be a whole number of milliseconds from 0 to 86400000 (got "86400001"); ' +
        'GOAL_BACKFILL_HEALTH_QUERY is blank: set it to SQL whose first value is milliseconds to wait, or unset it for none',
    );
    expect(latest.stderr).not.toMatch(/^\s+at /m);
    expect(await db.knex('goal_backfill_runs').count()).toEqual([{ count: '0' }]);
  });
});

describe('GOAL_BACKFILL_WORKERS above 1 without DATABASE_URL', () => {
  let folder: { root: string; remove: () => void };

  beforeEach(() => {
    folder = temporaryFolder('goal-backfill-migration-workers-');
  });

  afterEach(() => {
    folder.remove();
  });

  it.each([['migrate:latest'], ['seed:run']])(
    'npx knex %s refuses in one line, before the embedded database is opened',
    async (command) => {
      const dataDirectory = path.join(folder.root, 'data', 'pglite');
      const result = await knexCli([command], {
        DATABASE_URL: undefined,
        TEST_DATABASE_URL: undefined,
        GOAL_BACKFILL_DATA_DIR: dataDirectory,
        GOAL_BACKFILL_WORKERS: '2',
      });
      expect(result.code).not.toBe(0);
      const lines = result.stderr.split('\n').filter((line) => /Error/.test(line));
      expect(lines).toEqual([
        'ConfigError: GOAL_BACKFILL_WORKERS=2: more than one worker needs a PostgreSQL server, and ' +
          'the embedded database has a single connection; set ' +
          'DATABASE_URL=postgres://user:password@host:5432/database, or run one worker',
      ]);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(existsSync(path.join(folder.root, 'data'))).toBe(false);
    },
  );
});

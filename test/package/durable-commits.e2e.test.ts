import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmbeddedContents,
  readEmbeddedFromFreshProcess,
  temporaryFolder,
} from '../support/embedded-folder';
import { PROJECT_ROOT, runCommand } from '../support/run-command';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

const CLI = ['-r', 'sucrase/register/ts', 'src/cli/bin.ts'];

/** The CLI in its own process, as `npm run backfill -- …` runs it. */
function cli(args: string[], env: Record<string, string | undefined>) {
  return runCommand('node', [...CLI, ...args], { NODE_ENV: undefined, ...env }, 180_000);
}

/** The last `sessionsProcessed=N` a `backfill.progress` line reported, or 0. */
function lastReported(stderr: string): number {
  const all = [...stderr.matchAll(/backfill\.progress .*?sessionsProcessed=(\d+)/g)];
  return Number(all.at(-1)?.[1] ?? 0);
}

function latestRun(found: EmbeddedContents) {
  const run = found.runs.at(-1);
  if (!run) throw new Error('no run record in the folder');
  return run;
}

describe('on the embedded database, what a command reports as written is there for the next process', () => {
  const folder = temporaryFolder('goal-backfill-durable-');
  const dataDirectory = path.join(folder.root, 'pglite');
  const embedded = {
    DATABASE_URL: undefined,
    NODE_ENV: undefined,
    GOAL_BACKFILL_DATA_DIR: dataDirectory,
    GOAL_BACKFILL_LOG_LEVEL: 'info',
  };

  afterAll(() => folder.remove());

  it('after `npx knex migrate:latest` and `npx knex seed:run` with 20000 sessions', async () => {
    const migrate = await runCommand('npx', ['knex', 'migrate:latest'], embedded, 180_000);
    expect(migrate.code, migrate.stderr).toBe(0);
    const migrated = await readEmbeddedFromFreshProcess(dataDirectory);
    expect(migrated.runs.map((run) => run.status)).toEqual(['succeeded']);

    const seed = await runCommand(
      'npx',
      ['knex', 'seed:run'],
      { ...embedded, SEED_SESSIONS: '20000' },
      300_000,
    );
    expect(seed.code, seed.stderr).toBe(0);
    const goalsCreated = Number(/^Goals Created: (\d+)$/m.exec(seed.stdout)?.[1]);
    expect(goalsCreated).toBeGreaterThan(10_000);
    const found = await readEmbeddedFromFreshProcess(dataDirectory);
    expect(found.sessions).toBe(20_000);
    expect(found.goalsByOrigin.backfill).toBe(goalsCreated);
    expect(latestRun(found)).toEqual({
      status: 'succeeded',
      goalsCreated,
      sessionsProcessed: 20_000,
      hasCheckpoint: false,
    });
  }, 600_000);

  it('after Ctrl-C twice during `run`, which stops it at once, without closing PGlite', async () => {
    const rollback = await cli(['rollback', '--json'], embedded);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect((await readEmbeddedFromFreshProcess(dataDirectory)).goalsByOrigin.backfill).toBe(
      undefined,
    );

    // Pages of 4000 sessions take long enough on PGlite that the second Ctrl-C, sent as soon as
    // the first one's warning is out, lands while a page is still being written.
    const child = spawn(
      'node',
      [...CLI, 'run', '--batch-size', '4000', '--progress-every', '4000'],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, ...embedded, DATABASE_URL: '' },
      },
    );
    let stderr = '';
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const stderrShows = (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (pattern.test(stderr)) resolve();
        };
        child.stderr.on('data', check);
        void ended.then(() => resolve());
        check();
      });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    await stderrShows(/backfill\.progress .*?sessionsProcessed=([4-9]\d{3}|\d{5})/);
    child.kill('SIGINT');
    // Only once the first one has been handled: two signals pending at once merge into one.
    await stderrShows(/Ctrl-C again to stop at once/);
    child.kill('SIGINT');
    const { code, signal } = await ended;
    if (/SIGINT again: stopping now/.test(stderr)) {
      expect(code).toBe(130);
    } else {
      // The page ended first: the process was exiting already, by itself (130) or, when the
      // signal came after Node.js had put back the default handlers on its way out, by the
      // signal, which a shell reports as 130 all the same.
      expect(code === 130 || signal === 'SIGINT', `code ${code}, signal ${signal}`).toBe(true);
    }

    const reported = lastReported(stderr);
    expect(reported).toBeGreaterThanOrEqual(4000);
    expect(reported).toBeLessThan(20_000);
    const found = await readEmbeddedFromFreshProcess(dataDirectory);
    const run = latestRun(found);
    // Every page it reported committed with its checkpoint, and the goals match the counts.
    expect(run.sessionsProcessed).toBeGreaterThanOrEqual(reported);
    expect(run.hasCheckpoint).toBe(true);
    expect(found.goalsByOrigin.backfill).toBe(run.goalsCreated);
    expect(run.goalsCreated).toBeGreaterThan(0);
  }, 600_000);
});

// The CLI subprocess reaches the test database through DATABASE_URL, which needs a server.
describe.skipIf(onPglite)('on a server, a CLI run', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.migrateLatest();
  });

  afterAll(async () => {
    await db.drop();
  });

  it('leaves its goals and its run record visible to a new connection as soon as it exits', async () => {
    const server = { DATABASE_URL: db.url, GOAL_BACKFILL_LOG_LEVEL: 'warn' };
    const seed = await runCommand('npx', ['knex', 'seed:run'], {
      ...server,
      SEED_SESSIONS: '3000',
    });
    expect(seed.code, seed.stderr).toBe(0);
    expect((await cli(['rollback', '--json'], server)).code).toBe(0);

    const run = await cli(['run', '--json', '--batch-size', '250'], server);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { goalsCreated: number; runId: string };
    expect(summary.goalsCreated).toBeGreaterThan(0);
    const goals = await db.knex('treatment_goals').where({ origin: 'backfill' }).count('* as n');
    expect(Number(goals[0]?.n)).toBe(summary.goalsCreated);
    const record = await db.knex('goal_backfill_runs').where({ id: summary.runId }).first();
    expect(record?.status).toBe('succeeded');
    expect(Number(record?.counts.goalsCreated)).toBe(summary.goalsCreated);
  }, 300_000);
});

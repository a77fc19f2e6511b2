import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCliKnex } from '../../src/cli/database/create-cli-knex';
import {
  DataDirectoryLockedError,
  type LockOwner,
  lockDataDirectory,
  ownerIsDead,
} from '../../src/config/data-directory-lock';
import { lockFileOf } from '../../src/config/embedded-database';
import { temporaryFolder } from '../support/embedded-folder';
import { PROJECT_ROOT, runCommand } from '../support/run-command';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function dataDirectory(): string {
  const folder = temporaryFolder('goal-backfill-lock-');
  cleanups.push(folder.remove);
  return path.join(folder.root, 'pglite');
}

/**
 * A separate process that opens the embedded database, writes `rows` rows to a probe table and
 * prints "ready", then holds its event loop busy for `busyMs` (as PGlite does during a long
 * statement), then idles. SIGTERM makes it close the database and exit.
 */
function holder(folder: string, rows: number, busyMs: number): ChildProcess {
  const script = `
    const { createCliKnex } = require('./src/cli/database/create-cli-knex');
    (async () => {
      const { knex } = createCliKnex({ GOAL_BACKFILL_DATA_DIR: process.argv[1] });
      await knex.raw('CREATE TABLE probe (n int)');
      await knex.raw('INSERT INTO probe SELECT generate_series(1, ?)', [${rows}]);
      process.on('SIGTERM', () => knex.destroy().then(() => process.exit(0)));
      process.stdout.write('ready\\n');
      const until = Date.now() + ${busyMs};
      while (Date.now() < until) {}
      setInterval(() => undefined, 1000);
    })();`;
  const child = spawn('node', ['-r', 'sucrase/register/ts', '-e', script, folder], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  return child;
}

function printed(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes(`${line}\n`)) resolve();
    });
    child.on('exit', (code) => {
      if (!text.includes(`${line}\n`)) reject(new Error(`holder exited ${code} before "${line}"`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.on('exit', () => resolve());
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `goal-backfill status` in its own process, as an operator would type it. */
function statusCommand(folder: string) {
  return runCommand('node', ['-r', 'sucrase/register/ts', 'src/cli/bin.ts', 'status'], {
    DATABASE_URL: undefined,
    NODE_ENV: undefined,
    GOAL_BACKFILL_DATA_DIR: folder,
  });
}

/** The code of the error a second opener of the folder in this process gets. */
function openInThisProcess(folder: string): string | undefined {
  try {
    createCliKnex({ GOAL_BACKFILL_DATA_DIR: folder });
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('the embedded database lock', () => {
  it('keeps refusing a second process while the holder is busy for longer than the old 10 s stale limit', async () => {
    const folder = dataDirectory();
    const busy = holder(folder, 10, 20_000);
    await printed(busy, 'ready');
    const started = Date.now();
    let attempts = 0;
    while (Date.now() - started < 15_000) {
      const run = await statusCommand(folder);
      expect(run.stderr).toContain(`is in use by another process (pid ${busy.pid})`);
      expect(run.code).toBe(3);
      for (let i = 0; i < 5; i += 1) {
        expect(openInThisProcess(folder)).toBe('EMBEDDED_DATABASE_BUSY');
        attempts += 1;
        await sleep(200);
      }
    }
    expect(attempts).toBeGreaterThanOrEqual(10);
    busy.kill('SIGTERM');
    await exited(busy);
    expect(busy.exitCode).toBe(0);
    // Once the holder has closed, the folder is free and its rows are there.
    const after = createCliKnex({ GOAL_BACKFILL_DATA_DIR: folder });
    try {
      const rows = await after.knex.raw('SELECT count(*)::int AS n FROM probe');
      expect(rows.rows).toEqual([{ n: 10 }]);
    } finally {
      await after.knex.destroy();
    }
  }, 90_000);

  it('takes over the lock of a SIGKILLed holder, with the data intact', async () => {
    const folder = dataDirectory();
    const killed = holder(folder, 5000, 0);
    await printed(killed, 'ready');
    const before = JSON.parse(readFileSync(lockFileOf(folder), 'utf8')) as LockOwner;
    expect(before.pid).toBe(killed.pid);
    expect((await statusCommand(folder)).code).toBe(3);
    killed.kill('SIGKILL');
    await exited(killed);
    const next = createCliKnex({ GOAL_BACKFILL_DATA_DIR: folder });
    try {
      const owner = JSON.parse(readFileSync(lockFileOf(folder), 'utf8')) as LockOwner;
      expect(owner.pid).toBe(process.pid);
      const rows = await next.knex.raw(
        'SELECT count(*)::int AS n, sum(n)::int AS total FROM probe',
      );
      expect(rows.rows).toEqual([{ n: 5000, total: 12_502_500 }]);
    } finally {
      await next.knex.destroy();
    }
  }, 60_000);
});

describe('lockDataDirectory', () => {
  it('refuses while this live process holds it, and frees it on release', () => {
    const lockPath = `${dataDirectory()}.pid.lock`;
    const release = lockDataDirectory(lockPath);
    expect(() => lockDataDirectory(lockPath)).toThrow(DataDirectoryLockedError);
    release();
    lockDataDirectory(lockPath)();
  });

  it('judges an owner by its process, never by the age of the file', () => {
    const lockPath = `${dataDirectory()}.pid.lock`;
    const release = lockDataDirectory(lockPath);
    const mine = JSON.parse(readFileSync(lockPath, 'utf8')) as LockOwner;
    const here = (overrides: Partial<LockOwner>): LockOwner => ({ ...mine, ...overrides });
    try {
      expect(ownerIsDead(here({}))).toBe(false);
      // Not a live pid on this machine (beyond pid_max).
      expect(ownerIsDead(here({ pid: 2 ** 22 + 7 }))).toBe(true);
      // This machine, rebooted since.
      if (here({}).bootId) expect(ownerIsDead(here({ bootId: 'another-boot' }))).toBe(true);
      // The pid now belongs to a newer process.
      if (here({}).startTicks) expect(ownerIsDead(here({ startTicks: '1' }))).toBe(true);
      // Another machine sharing the folder cannot be checked, so it is never taken over.
      expect(ownerIsDead(here({ pid: 2 ** 22 + 7, host: `${hostname()}-other` }))).toBe(false);
    } finally {
      release();
    }
  });

  it('takes over a file left by a dead process, and only that one', () => {
    const lockPath = `${dataDirectory()}.pid.lock`;
    const dead: LockOwner = {
      pid: 2 ** 22 + 7,
      host: hostname(),
      bootId: null,
      startTicks: null,
      token: 'dead',
    };
    writeFileSync(lockPath, JSON.stringify(dead));
    const release = lockDataDirectory(lockPath);
    expect((JSON.parse(readFileSync(lockPath, 'utf8')) as LockOwner).pid).toBe(process.pid);
    release();
    writeFileSync(lockPath, JSON.stringify({ ...dead, host: `${hostname()}-other` }));
    expect(() => lockDataDirectory(lockPath)).toThrow(DataDirectoryLockedError);
  });
});

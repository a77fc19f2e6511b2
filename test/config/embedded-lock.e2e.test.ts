import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LockOwner, lockFileOf } from '../../src/config/embedded';
import { createCliKnex } from '../../src/config/knex';
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
 * prints "ready", then, when `busy`, holds its event loop busy (as PGlite does during a long
 * statement) until the file `${folder}.go` appears, then idles. SIGTERM makes it close the
 * database and exit.
 */
function holder(folder: string, rows: number, busy: boolean): ChildProcess {
  const script = `
    const { existsSync } = require('node:fs');
    const { createCliKnex } = require('./src/config/knex');
    (async () => {
      const { knex } = createCliKnex({ GOAL_BACKFILL_DATA_DIR: process.argv[1] });
      await knex.raw('CREATE TABLE probe (n int)');
      await knex.raw('INSERT INTO probe SELECT generate_series(1, ?)', [${rows}]);
      process.on('SIGTERM', () => knex.destroy().then(() => process.exit(0)));
      process.stdout.write('ready\\n');
      while (${busy} && !existsSync(process.argv[1] + '.go')) {}
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
  it('keeps refusing a second process while the holder is busy, however old its lock file (no stale limit by age, such as the old 10 s)', async () => {
    const folder = dataDirectory();
    const busy = holder(folder, 10, true);
    await printed(busy, 'ready');
    // The holder's event loop is busy until the test says so: it could refresh nothing. Its
    // lock file is made to look an hour old, far past any stale limit that judged by age.
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(lockFileOf(folder), hourAgo, hourAgo);
    for (let round = 0; round < 2; round += 1) {
      const run = await statusCommand(folder);
      expect(run.stderr).toContain(`is in use by another process (pid ${busy.pid})`);
      expect(run.code).toBe(3);
      for (let i = 0; i < 5; i += 1) {
        expect(openInThisProcess(folder)).toBe('EMBEDDED_DATABASE_BUSY');
      }
    }
    // Still its own, untouched.
    expect((JSON.parse(readFileSync(lockFileOf(folder), 'utf8')) as LockOwner).pid).toBe(busy.pid);
    writeFileSync(`${folder}.go`, '');
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
    const killed = holder(folder, 5000, false);
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

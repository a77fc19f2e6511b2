import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EMBEDDED_POSTGRES_MAJOR, lockFileOf } from '../../src/config/embedded';
import { temporaryFolder } from '../support/embedded-folder';
import { type CommandResult, PROJECT_ROOT, runCommand } from '../support/run-command';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function scratch(): string {
  const folder = temporaryFolder('goal-backfill-data-folder-');
  cleanups.push(folder.remove);
  return folder.root;
}

/** No server: every command below is on the embedded database. */
const EMBEDDED_ENV = { DATABASE_URL: undefined, TEST_DATABASE_URL: undefined, NODE_ENV: undefined };

/** `npx knex migrate:latest`, typed from the project root (the Knex CLI works from there). */
function knexMigrate(dataDir: string): Promise<CommandResult> {
  return runCommand('npx', ['knex', 'migrate:latest'], {
    ...EMBEDDED_ENV,
    GOAL_BACKFILL_DATA_DIR: dataDir,
  });
}

/** `goal-backfill status` in its own process, from `cwd`. */
function operatorStatus(dataDir: string, cwd = PROJECT_ROOT): Promise<CommandResult> {
  const args = [
    '-r',
    require.resolve('sucrase/register/ts'),
    path.join(PROJECT_ROOT, 'src/cli/bin.ts'),
  ];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...args, 'status'],
      { cwd, env: { ...process.env, ...EMBEDDED_ENV, GOAL_BACKFILL_DATA_DIR: dataDir } },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** Every path under `root` with a hash of each file's bytes: equal snapshots, nothing changed. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string) => {
    const stats = statSync(at);
    const key = path.relative(root, at) || '.';
    if (!stats.isDirectory()) {
      out[key] = createHash('sha256').update(readFileSync(at)).digest('hex');
      return;
    }
    out[key] = `dir ${stats.mode}`;
    for (const name of readdirSync(at)) walk(path.join(at, name));
  };
  walk(root);
  return out;
}

/** The one stderr line of a refusal: no stack, no second line. */
function onlyLine(result: CommandResult): string {
  const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  return lines[0] ?? '';
}

/** Both commands refuse `dataDir` with `expected` (one line), and `root` is left as it was. */
async function expectRefused(root: string, dataDir: string, expected: string): Promise<void> {
  const before = snapshot(root);
  const knex = await knexMigrate(dataDir);
  expect(knex.code).toBe(1);
  expect(onlyLine(knex)).toBe(`ConfigError: ${expected}`);
  const cli = await operatorStatus(dataDir);
  expect(cli.code).toBe(2);
  expect(onlyLine(cli)).toBe(`goal-backfill: error: ${expected} [CONFIG_INVALID]`);
  expect(snapshot(root)).toEqual(before);
}

const TO_DO =
  'nothing was changed: set GOAL_BACKFILL_DATA_DIR to a new or empty folder, ' +
  'or set DATABASE_URL to use a PostgreSQL server';

/** A folder laid out as `initdb` leaves one (the files PGlite and PostgreSQL look at). */
function fakeDataDirectory(folder: string, version: string, extra: Record<string, string> = {}) {
  mkdirSync(path.join(folder, 'base', '1'), { recursive: true });
  mkdirSync(path.join(folder, 'global'));
  mkdirSync(path.join(folder, 'pg_wal'));
  const files = {
    PG_VERSION: `${version}\n`,
    'postgresql.conf': "listen_addresses = 'localhost'\n",
    'pg_hba.conf': 'local all all trust\n',
    'global/pg_control': 'control',
    'base/1/1259': 'catalog',
    ...extra,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(folder, name), text);
}

describe('GOAL_BACKFILL_DATA_DIR', () => {
  it.each([
    ['empty', ''],
    ['blank', '   '],
  ])(
    '%s is refused in one line and no database is created in the working directory',
    async (_name, value) => {
      const expected =
        'GOAL_BACKFILL_DATA_DIR is empty: set it to the folder the embedded database keeps its files in ' +
        '(e.g. GOAL_BACKFILL_DATA_DIR=.data/pglite), or unset it for the default .data/pglite';
      // The Knex CLI works from the project root: an empty value would have put PGlite there.
      const knex = await knexMigrate(value);
      expect(knex.code).toBe(1);
      expect(onlyLine(knex)).toBe(`ConfigError: ${expected}`);
      expect(existsSync(path.join(PROJECT_ROOT, 'PG_VERSION'))).toBe(false);
      expect(existsSync(lockFileOf(PROJECT_ROOT))).toBe(false);

      const cwd = scratch();
      const cli = await operatorStatus(value, cwd);
      expect(cli.code).toBe(2);
      expect(onlyLine(cli)).toBe(`goal-backfill: error: ${expected} [CONFIG_INVALID]`);
      expect(readdirSync(cwd)).toEqual([]);
      expect(existsSync(lockFileOf(cwd))).toBe(false);
    },
  );
});

describe('a data folder the embedded database must not open is refused, and left as it was', () => {
  it('a regular file', async () => {
    const root = scratch();
    const file = path.join(root, 'notes.txt');
    writeFileSync(file, 'not a database\n');
    await expectRefused(
      root,
      file,
      `the embedded database folder ${file} is a file, not a folder; ${TO_DO}`,
    );
  });

  it('a path inside a regular file', async () => {
    const root = scratch();
    writeFileSync(path.join(root, 'notes.txt'), 'not a database\n');
    const inside = path.join(root, 'notes.txt', 'pglite');
    await expectRefused(
      root,
      inside,
      `the embedded database folder ${inside} is inside a file, not a folder; ${TO_DO}`,
    );
  });

  it('a PostgreSQL 15 data directory, as initdb leaves it', async () => {
    const root = scratch();
    const folder = path.join(root, 'data');
    fakeDataDirectory(folder, '15');
    await expectRefused(
      root,
      folder,
      `the embedded database folder ${folder} holds a PostgreSQL 15 data directory, which the embedded ` +
        `database (PostgreSQL ${EMBEDDED_POSTGRES_MAJOR}) cannot open; ${TO_DO}`,
    );
  });

  it(`a server's data directory of the embedded database's own version (postmaster.opts)`, async () => {
    const root = scratch();
    const folder = path.join(root, 'data');
    fakeDataDirectory(folder, EMBEDDED_POSTGRES_MAJOR, {
      'postmaster.opts': '/usr/lib/postgresql/bin/postgres "-D" "/var/lib/postgresql/data"\n',
    });
    await expectRefused(
      root,
      folder,
      `the embedded database folder ${folder} holds a PostgreSQL server's data directory ` +
        `(PostgreSQL ${EMBEDDED_POSTGRES_MAJOR}), which the embedded database never opens; ${TO_DO}`,
    );
  });

  it('a folder of other files, with no database', async () => {
    const root = scratch();
    const folder = path.join(root, 'project');
    mkdirSync(path.join(folder, 'src'), { recursive: true });
    writeFileSync(path.join(folder, 'package.json'), '{}\n');
    writeFileSync(path.join(folder, 'pg_notes.md'), 'a pg_ name is a database name\n');
    await expectRefused(
      root,
      folder,
      `the embedded database folder ${folder} holds other files (2 entries) and no database; ${TO_DO}`,
    );
  });
});

/** A process that opens PGlite in `folder`, prints "ready" once it has written, then idles. */
function pgliteHolder(folder: string): ChildProcess {
  const script = `
    const { PGlite } = require('@electric-sql/pglite');
    (async () => {
      const pg = new PGlite(process.argv[1]);
      await pg.query('CREATE TABLE probe (n int)');
      process.stdout.write('ready\\n');
      setInterval(() => undefined, 1000);
    })();`;
  const child = spawn(process.execPath, ['-e', script, folder], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  return child;
}

function untilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('ready\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`the PGlite holder exited ${code}`)));
  });
}

describe('postmaster.pid', () => {
  it(`opens a folder PGlite left behind when killed, and refuses one whose postmaster.pid names a server's process`, async () => {
    const root = scratch();
    const folder = path.join(root, 'pglite');
    const holder = pgliteHolder(folder);
    await untilReady(holder);
    const exited = new Promise((resolve) => holder.on('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    // PGlite runs PostgreSQL in single-user mode: a negative pid, and it stays after a kill.
    const left = readFileSync(path.join(folder, 'postmaster.pid'), 'utf8');
    expect(left.split('\n')[0]).toMatch(/^-\d+$/);
    expect(readFileSync(path.join(folder, 'PG_VERSION'), 'utf8').trim()).toBe(
      EMBEDDED_POSTGRES_MAJOR,
    );

    const opened = await operatorStatus(folder);
    expect(onlyLine(opened)).toMatch(/therapy_sessions.* not found in schema "public"/);

    // The same folder as a running server's: its postmaster records a positive pid.
    writeFileSync(
      path.join(folder, 'postmaster.pid'),
      `4242\n${folder}\n1796238028\n5432\n/var/run/postgresql\nlocalhost\n  5432001    12\nready   \n`,
    );
    await expectRefused(
      root,
      folder,
      `the embedded database folder ${folder} holds a PostgreSQL server's data directory ` +
        `(PostgreSQL ${EMBEDDED_POSTGRES_MAJOR}), which the embedded database never opens; ${TO_DO}`,
    );
  });
});

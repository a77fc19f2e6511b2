import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { temporaryFolder } from '../support/embedded-folder';
import { runCommand } from '../support/run-command';

/**
 * Whether this machine lets a process mount a small tmpfs of its own: a user and mount
 * namespace (`unshare -rm`), which needs no root and vanishes with the process.
 */
function canMountPrivateTmpfs(): boolean {
  const root = temporaryFolder('goal-backfill-tmpfs-probe-');
  try {
    execFileSync(
      'unshare',
      ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$1"', 'sh', root.root],
      {
        stdio: 'ignore',
      },
    );
    return true;
  } catch {
    return false;
  } finally {
    root.remove();
  }
}

const noPrivateTmpfs = !canMountPrivateTmpfs();

/** What each step of a script printed, read back from `outputs` (step-N.out, step-N.err, step-N.rc). */
function stepsIn(outputs: string, count: number) {
  return Array.from({ length: count }, (_, index) => {
    const read = (ext: string) =>
      readFileSync(path.join(outputs, `step-${index + 1}.${ext}`), 'utf8');
    return { code: Number(read('rc').trim()), stdout: read('out'), stderr: read('err') };
  });
}

/**
 * Runs `steps` (shell commands, from the project root) one after the other in a private mount
 * namespace where `mountPoint` is a tmpfs of `sizeMb`; `prepare` runs first, in the same
 * namespace. Each step's output goes to a file outside the tmpfs, which vanishes afterwards.
 */
async function inSmallDisk(
  mountPoint: string,
  sizeMb: number,
  prepare: string,
  steps: readonly string[],
  outputs: string,
) {
  const lines = [
    'set -u',
    `mount -t tmpfs -o size=${sizeMb}m tmpfs "${mountPoint}" || exit 90`,
    prepare,
    ...steps.map(
      (step, index) =>
        `( ${step} ) >"${outputs}/step-${index + 1}.out" 2>"${outputs}/step-${index + 1}.err"; ` +
        `echo $? >"${outputs}/step-${index + 1}.rc"`,
    ),
  ];
  const run = await runCommand(
    'unshare',
    ['-rm', 'sh', '-c', lines.join('\n')],
    {
      DATABASE_URL: undefined,
      TEST_DATABASE_URL: undefined,
      NODE_ENV: undefined,
      GOAL_BACKFILL_DATA_DIR: path.join(mountPoint, 'pglite'),
    },
    240_000,
  );
  expect(run.code, run.stderr).toBe(0);
  return stepsIn(outputs, steps.length);
}

const KNEX_MIGRATE = 'npx knex migrate:latest';
const STATUS = 'node -r sucrase/register/ts src/cli/bin.ts status';

function expectOneLine(stderr: string, line: string) {
  expect(stderr.split('\n').filter((text) => text.trim() !== '')).toEqual([line]);
}

function diskFull(folder: string): string {
  return (
    `the disk under ${folder} is full (ENOSPC): free space on it, or set GOAL_BACKFILL_DATA_DIR ` +
    'to a folder on a disk with room, then run the command again'
  );
}

describe.skipIf(noPrivateTmpfs)('a full disk under the embedded database (a 2 MB tmpfs)', () => {
  it('creating the database: one line from both commands, and the next run, with room, completes the folder', async () => {
    const work = temporaryFolder('goal-backfill-disk-full-');
    try {
      const mountPoint = path.join(work.root, 'disk');
      const outputs = path.join(work.root, 'out');
      execFileSync('mkdir', [mountPoint, outputs]);
      const folder = path.join(mountPoint, 'pglite');
      const [knex, cli, listing, again] = await inSmallDisk(
        mountPoint,
        2,
        '',
        [
          KNEX_MIGRATE,
          STATUS,
          `ls -A "${mountPoint}"`,
          `mount -o remount,size=200m "${mountPoint}" && ${KNEX_MIGRATE}`,
        ],
        outputs,
      );
      expect(knex?.code).toBe(1);
      expectOneLine(knex?.stderr ?? '', `EmbeddedStorageError: ${diskFull(folder)}`);
      expect(cli?.code).toBe(2);
      expectOneLine(
        cli?.stderr ?? '',
        `goal-backfill: error: ${diskFull(folder)} [EMBEDDED_STORAGE]`,
      );
      // The half-created folder is all there is: no lock file is left beside it.
      expect(listing?.stdout.split('\n').filter(Boolean)).toEqual(['pglite']);
      expect(again?.code, again?.stderr).toBe(0);
      expect(again?.stdout).toContain('Batch 1 run: 4 migrations');
    } finally {
      work.remove();
    }
  }, 240_000);

  it('starting an existing database with no room for its next WAL segment: one line, and it opens once there is room', async () => {
    const work = temporaryFolder('goal-backfill-disk-full-start-');
    try {
      // A database whose write-ahead log is past three quarters of its only segment: PostgreSQL
      // creates the next segment (16 MiB) when it starts.
      const prepared = path.join(work.root, 'prepared');
      const pg = new PGlite(prepared);
      const offset = async () =>
        Number(
          (
            await pg.query<{ offset: string }>(
              "SELECT ((pg_current_wal_insert_lsn() - '0/0'::pg_lsn) % (16 * 1024 * 1024))::text AS offset",
            )
          ).rows[0]?.offset,
        );
      await pg.query('CREATE TABLE filler (n int, h text)');
      while ((await offset()) < 13 * 1024 * 1024) {
        await pg.query('INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 5000) g');
      }
      await pg.close();
      expect(
        readdirSync(path.join(prepared, 'pg_wal')).filter((name) => /^[0-9A-F]{24}$/.test(name)),
      ).toHaveLength(1);

      const mountPoint = path.join(work.root, 'disk');
      const outputs = path.join(work.root, 'out');
      execFileSync('mkdir', [mountPoint, outputs]);
      const folder = path.join(mountPoint, 'pglite');
      const fill =
        `cp -a "${prepared}" "${folder}" && ` +
        `avail=$(df -k --output=avail "${mountPoint}" | tail -1) && ` +
        `dd if=/dev/zero of="${mountPoint}/filler" bs=1k count=$((avail - 1024)) 2>/dev/null`;
      const [cli, knex, freed] = await inSmallDisk(
        mountPoint,
        100,
        fill,
        [STATUS, KNEX_MIGRATE, `rm "${mountPoint}/filler" && ${STATUS}`],
        outputs,
      );
      expect(cli?.code).toBe(2);
      expectOneLine(
        cli?.stderr ?? '',
        `goal-backfill: error: ${diskFull(folder)} [EMBEDDED_STORAGE]`,
      );
      expect(knex?.code).toBe(1);
      expectOneLine(knex?.stderr ?? '', `EmbeddedStorageError: ${diskFull(folder)}`);
      expect(freed?.stderr).toMatch(/therapy_sessions.* not found in schema "public"/);
    } finally {
      work.remove();
    }
  }, 240_000);
});

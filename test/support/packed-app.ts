import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import { afterAll, beforeAll } from 'vitest';
import { queryRows } from '../../src/db/sql-runner';
import { APP_KINDS, type AppKind, COMMONJS_APP, EXAMPLE } from './app-kinds';
import { type CommandResult, PROJECT_ROOT } from './run-command';
import { createTestDatabase, onPglite, type TestDatabase } from './test-database';

/**
 * The package as an app gets it: packed as `npm pack` packs it once per test file, its tarball
 * installed into copies of the example app (docs/examples/consumer), and the app's database as
 * it is before goal-backfill.
 */

const run = promisify(execFile);

const APP_DATA = readFileSync(path.join(EXAMPLE, 'app-data.sql'), 'utf8');
const OVERLAYS = new Set(APP_KINDS.map((kind) => kind.overlay).filter(Boolean));

/** The goals the backfill rules give for app-data.sql: patient, description, category, details, source session. */
export const EXPECTED_GOALS = [
  ['…0001', 'Read a chapter', 'general', null, '…0002'],
  ['…0001', 'Walk daily', 'exercise', '20 min', '…0001'],
  ['…0002', 'Journal', 'general', null, '…0003'],
  ['…0002', 'Walk daily', 'general', null, '…0003'],
];

/** `name@version` as this project's package.json pins it for development. */
export function devDependency(name: string): string {
  const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
  const version = manifest.devDependencies[name];
  if (typeof version !== 'string') throw new Error(`${name} is not a devDependency`);
  return `${name}@${version}`;
}

/** Runs a command in `cwd` and never rejects. */
export function exec(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string | undefined> = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...process.env, ...env }, timeout: 240_000, maxBuffer: 16 << 20 },
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

/** The command's result, or an error with the end of its stderr when it exited non-zero. */
export async function ok(result: Promise<CommandResult>): Promise<CommandResult> {
  const done = await result;
  if (done.code !== 0)
    throw new Error(`command failed (${done.code}): ${done.stderr.slice(-2000)}`);
  return done;
}

/** The backfilled goals, as rows comparable with {@link EXPECTED_GOALS}. */
export async function backfilledGoals(knex: Knex): Promise<unknown[][]> {
  const rows = queryRows<Record<string, string | null>>(
    await knex.raw(
      `SELECT '…' || right(CAST(patient_id AS text), 4) AS patient, description, category, details,
              '…' || right(CAST(session_id AS text), 4) AS session
         FROM treatment_goals WHERE origin = 'backfill' ORDER BY 1, 2`,
    ),
  );
  return rows.map((row) => [row.patient, row.description, row.category, row.details, row.session]);
}

/** The names in a Knex migrations table, in the order they ran. */
export async function knexMigrationNames(knex: Knex, table: string): Promise<string[]> {
  const rows = queryRows<{ name: string }>(
    await knex.raw('SELECT name FROM ?? ORDER BY id', [table]),
  );
  return rows.map((row) => row.name);
}

export interface InstallOptions {
  /** Packages to install besides the tarball, pg and @types/node (`name@version`). */
  packages: string[];
  /** The kind of app: its package type, knexfile and migration files. CommonJS by default. */
  kind?: AppKind;
}

export interface PackedPackage {
  /** A copy of the example app, as `kind` makes it, with the tarball and `packages` installed. */
  installApp(name: string, options: InstallOptions): Promise<string>;
}

/** The paths `npm pack` puts in the tarball, from package.json's `files` (without building). */
export async function packedFiles(): Promise<string[]> {
  const { stdout } = await run(
    'npm',
    ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'],
    { cwd: PROJECT_ROOT, maxBuffer: 16 << 20 },
  );
  const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  return pack.files.map((file) => file.path);
}

/**
 * Packs the package as `npm pack` does into `destination` and answers the tarball's path. The
 * build (`prepack`'s `tsc -p tsconfig.build.json`) goes to a copy of the files the tarball
 * ships, never to the checkout's dist/, so test files that pack at the same time never rebuild
 * one folder under each other.
 */
async function packTarball(destination: string): Promise<string> {
  const stage = path.join(destination, 'package-stage');
  for (const file of await packedFiles()) {
    if (file.startsWith('dist/')) continue;
    const target = path.join(stage, file);
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(path.join(PROJECT_ROOT, file), target);
  }
  await run(
    path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc'),
    ['-p', path.join(PROJECT_ROOT, 'tsconfig.build.json'), '--outDir', path.join(stage, 'dist')],
    { cwd: PROJECT_ROOT, maxBuffer: 16 << 20 },
  );
  const { stdout } = await run(
    'npm',
    ['pack', '--ignore-scripts', '--silent', '--pack-destination', destination],
    { cwd: stage, maxBuffer: 16 << 20 },
  );
  return path.join(destination, stdout.trim().split('\n').at(-1) ?? '');
}

/**
 * Packs the package once before the calling file's tests into a temporary folder, which it
 * removes after them. Skipped on PGlite, where the package tests, which need a server, skip
 * themselves.
 */
export function usePackedPackage(): PackedPackage {
  let work = '';
  let tarball = '';
  beforeAll(async () => {
    if (onPglite) return;
    work = mkdtempSync(path.join(tmpdir(), 'goal-backfill-consumer-'));
    tarball = await packTarball(work);
  }, 240_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });
  return {
    async installApp(name, { packages, kind = COMMONJS_APP }) {
      const app = path.join(work, name);
      makeApp(app, name, kind);
      // The cache holds every package of package-lock.json: the registry is asked only if not.
      const install = ['install', '--no-audit', '--no-fund', '--prefer-offline'];
      const devPackages = kind.devPackages.map(devDependency);
      const dependencies = [tarball, devDependency('pg'), devDependency('@types/node')];
      await ok(exec('npm', [...install, ...dependencies, ...devPackages, ...packages], app));
      return app;
    },
  };
}

/** The example app at `app`, with `kind`'s knexfile, migrations and package.json. */
function makeApp(app: string, name: string, kind: AppKind): void {
  cpSync(EXAMPLE, app, {
    recursive: true,
    filter: (source) => !OVERLAYS.has(path.relative(EXAMPLE, source)),
  });
  const migrations = path.join(app, 'migrations');
  let manifest: Record<string, unknown> = { name, version: '1.0.0', private: true };
  if (kind.overlay) {
    const overlay = path.join(EXAMPLE, kind.overlay);
    if (existsSync(path.join(overlay, 'package.json')))
      manifest = {
        ...manifest,
        ...JSON.parse(readFileSync(path.join(overlay, 'package.json'), 'utf8')),
      };
    rmSync(path.join(app, 'knexfile.js'));
    for (const file of COMMONJS_APP.ourMigrations) rmSync(path.join(migrations, file));
    COMMONJS_APP.appMigrations.forEach((file, index) => {
      renameSync(
        path.join(migrations, file),
        path.join(migrations, kind.appMigrations[index] ?? ''),
      );
    });
    cpSync(overlay, app, { recursive: true });
  }
  writeFileSync(path.join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * The app's database as it is before goal-backfill: a fresh database, the app's own migrations
 * run by its `npx knex migrate:latest` (ours set aside for it), and the app's rows in.
 */
export async function appDatabase(
  app: string,
  kind: AppKind = COMMONJS_APP,
): Promise<TestDatabase> {
  const db = await createTestDatabase();
  const migrations = path.join(app, 'migrations');
  const parked = path.join(app, 'parked');
  mkdirSync(parked, { recursive: true });
  for (const file of kind.ourMigrations)
    renameSync(path.join(migrations, file), path.join(parked, file));
  try {
    await ok(exec('npx', ['knex', 'migrate:latest'], app, { DATABASE_URL: db.url }));
    for (const file of kind.ourMigrations)
      renameSync(path.join(parked, file), path.join(migrations, file));
    await db.knex.raw(APP_DATA);
    return db;
  } catch (err) {
    await db.drop();
    throw err;
  }
}

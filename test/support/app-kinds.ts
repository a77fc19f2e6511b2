import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './run-command';

/** docs/examples/consumer: the example app, CommonJS as it is, and its overlays. */
export const EXAMPLE = path.join(PROJECT_ROOT, 'docs', 'examples', 'consumer');

/** The app's own migrations, from before goal-backfill, without their extension. */
const APP_MIGRATIONS = ['20260101000000_app_tables', '20260301000000_app_invoices'];
/** goal-backfill's three migrations in the app's chain, in the order they run. */
const OUR_MIGRATIONS = [
  '20261201000000_create_treatment_goals',
  '20261201000000_treatment_goals_dedup_rule',
  '20261201000001_backfill_treatment_goals',
];

/**
 * A kind of app that adds goal-backfill's migrations to its own chain, as
 * docs/migration-guide.md prints them: the example app, with the kind's knexfile and migration
 * files from its overlay folder in place of the CommonJS ones.
 */
export interface AppKind {
  /** As the guide's heading names it. */
  title: string;
  /**
   * The folder under docs/examples/consumer whose files replace the app's knexfile and
   * goal-backfill's migrations (and add to its package.json), or '' for the app as it is.
   */
  overlay: string;
  /** The app's own migrations, as this kind of app names them. */
  appMigrations: string[];
  /** goal-backfill's migrations, as this kind of app names them. */
  ourMigrations: string[];
  /** Packages the app installs beside goal-backfill, pg and knex. */
  devPackages: string[];
  /** Whether the app compiles its TypeScript (knexfile, migrations, typecheck.ts) with tsc. */
  typecheck: boolean;
}

const named = (names: string[], extension: string) => names.map((name) => `${name}${extension}`);

export const COMMONJS_APP: AppKind = {
  title: 'CommonJS',
  overlay: '',
  appMigrations: named(APP_MIGRATIONS, '.js'),
  ourMigrations: named(OUR_MIGRATIONS, '.js'),
  devPackages: [],
  typecheck: false,
};

/** The kinds the guide documents, each run end to end by test/package/app-kinds.e2e.test.ts. */
export const APP_KINDS: readonly AppKind[] = [
  COMMONJS_APP,
  {
    title: 'ES modules',
    overlay: 'esm',
    // Older migrations of an app that is an ES module stay CommonJS as .cjs, which Knex loads.
    appMigrations: named(APP_MIGRATIONS, '.cjs'),
    ourMigrations: named(OUR_MIGRATIONS, '.js'),
    devPackages: [],
    typecheck: false,
  },
  {
    title: 'TypeScript',
    overlay: 'typescript',
    appMigrations: named(APP_MIGRATIONS, '.js'),
    ourMigrations: named(OUR_MIGRATIONS, '.ts'),
    // The Knex CLI's loader for knexfile.ts and the .ts migrations (docs/development.md).
    devPackages: ['sucrase'],
    typecheck: true,
  },
];

/**
 * The files the guide prints for a kind, relative to docs/: every file of its overlay, or the
 * CommonJS app's knexfile and goal-backfill's migrations.
 */
export function documentedFiles(kind: AppKind): string[] {
  const folder = path.posix.join('examples', 'consumer', kind.overlay);
  const files = kind.overlay
    ? readdirSync(path.join(EXAMPLE, kind.overlay), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) =>
          path.relative(path.join(EXAMPLE, kind.overlay), path.join(entry.parentPath, entry.name)),
        )
    : ['knexfile.js', ...kind.ourMigrations.map((file) => `migrations/${file}`)];
  return files.sort().map((file) => path.posix.join(folder, file.split(path.sep).join('/')));
}

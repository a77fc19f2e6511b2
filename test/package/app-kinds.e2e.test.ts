import path from 'node:path';
import type { Knex } from 'knex';
import { describe, it } from 'vitest';
import { queryRows } from '../../src/db/sql-runner';
import { appTableDigests } from '../support/app-database';
import { APP_KINDS } from '../support/app-kinds';
import {
  appDatabase,
  backfilledGoals,
  devDependency,
  EXPECTED_GOALS,
  exec,
  ok,
  usePackedPackage,
} from '../support/packed-app';
import { PROJECT_ROOT } from '../support/run-command';
import { onPglite } from '../support/test-database';

/**
 * The migration files docs/migration-guide.md prints for a CommonJS, an ES module and a
 * TypeScript app (test/docs/example-files.test.ts holds the guide to the files), each in a copy
 * of the example app with the packed package installed, deployed with the app's own
 * `npx knex`: the schema, the rest, a rollback of each batch, and the chain again. Every end
 * state is read from the database.
 */

const packed = usePackedPackage();
const TSC = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc');
/** Prints the package's exports (as `require` gives them), and those an ES module cannot import by name. */
const ESM_EXPORTS = `
  import { createRequire } from 'node:module';
  import * as imported from 'goal-backfill';
  const exported = Object.keys(createRequire(process.cwd() + '/')('goal-backfill'));
  const missing = exported.filter((name) => !(name in imported));
  console.log(JSON.stringify({ exported, missing }));`;

/** knex_migrations as `name@batch`, in the order they ran. */
async function knexMigrations(knex: Knex): Promise<string[]> {
  const rows = queryRows<{ name: string; batch: number }>(
    await knex.raw('SELECT name, batch FROM knex_migrations ORDER BY id'),
  );
  return rows.map((row) => `${row.name}@${row.batch}`);
}

async function hasGoalTable(knex: Knex): Promise<boolean> {
  const [row] = queryRows<{ present: boolean }>(
    await knex.raw("SELECT to_regclass('treatment_goals') IS NOT NULL AS present"),
  );
  return row?.present === true;
}

describe.skipIf(onPglite)("the guide's migration files in each kind of app", () => {
  // Concurrent: most of each is waiting on npm, the Knex CLI's start-up and the database.
  it.concurrent.for(APP_KINDS)(
    '$title: migrate:up the schema, migrate:latest, migrate:rollback twice, migrate:latest',
    { timeout: 300_000 },
    async (kind, { expect }) => {
      const app = await packed.installApp(`app-${kind.overlay || 'commonjs'}`, {
        kind,
        packages: [devDependency('knex')],
      });
      if (kind.typecheck) await ok(exec(TSC, ['-p', 'tsconfig.json'], app));
      if (kind.overlay === 'esm') {
        // Not only the migrations': every export of the CommonJS package is a named import.
        const names = await ok(exec('node', ['--input-type=module', '-e', ESM_EXPORTS], app));
        expect(JSON.parse(names.stdout)).toEqual({
          exported: expect.arrayContaining(['goalSchemaMigration', 'runBackfill', 'ConfigError']),
          missing: [],
        });
      }
      const db = await appDatabase(app, kind);
      try {
        const env = { DATABASE_URL: db.url, GOAL_BACKFILL_LOG_LEVEL: 'warn' };
        const knex = (...args: string[]) => ok(exec('npx', ['knex', ...args], app, env));
        const appData = await appTableDigests(db.knex);
        const [schema, dedupRule, backfill] = kind.ourMigrations;
        const appBatch = kind.appMigrations.map((name) => `${name}@1`);

        // The guide's step 1, then step 3: two batches of goal-backfill's migrations.
        await knex('migrate:up', schema ?? '');
        expect(await hasGoalTable(db.knex)).toBe(true);
        expect(await backfilledGoals(db.knex)).toEqual([]);
        await knex('migrate:latest');
        expect(await backfilledGoals(db.knex)).toEqual(EXPECTED_GOALS);
        expect(await knexMigrations(db.knex)).toEqual([
          ...appBatch,
          `${schema}@2`,
          `${dedupRule}@3`,
          `${backfill}@3`,
        ]);

        // Each batch back: the backfill's goals, then the schema; the app's rows stay.
        await knex('migrate:rollback');
        expect(await backfilledGoals(db.knex)).toEqual([]);
        expect(await hasGoalTable(db.knex)).toBe(true);
        expect(await knexMigrations(db.knex)).toEqual([...appBatch, `${schema}@2`]);
        await knex('migrate:rollback');
        expect(await hasGoalTable(db.knex)).toBe(false);
        expect(await knexMigrations(db.knex)).toEqual(appBatch);
        expect(await appTableDigests(db.knex)).toEqual(appData);

        // And the whole chain again, in one batch.
        await knex('migrate:latest');
        expect(await backfilledGoals(db.knex)).toEqual(EXPECTED_GOALS);
        expect(await knexMigrations(db.knex)).toEqual([
          ...appBatch,
          ...kind.ourMigrations.map((name) => `${name}@2`),
        ]);
        expect(await appTableDigests(db.knex)).toEqual(appData);
      } finally {
        await db.drop();
      }
    },
  );
});

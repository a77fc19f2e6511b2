import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/sql-runner';
import { appTableDigests } from '../support/app-database';
import {
  adoptedDefinition,
  type TableDefinition,
  tableDefinition,
} from '../support/app-goal-table';
import { COMMONJS_APP, EXAMPLE } from '../support/app-kinds';
import {
  appDatabase,
  backfilledGoals,
  devDependency,
  EXPECTED_GOALS,
  exec,
  knexMigrationNames,
  ok,
  usePackedPackage,
} from '../support/packed-app';
import { type CommandResult, PROJECT_ROOT, runCommand } from '../support/run-command';
import { onPglite, type TestDatabase } from '../support/test-database';
import { verifyChecks } from '../support/verify-sql';

/**
 * The two documented ways to use goal-backfill, run end to end as docs/migration-guide.md tells
 * an operator, on the example app of docs/examples/consumer: a database with the app's own
 * migrations, its own rows in knex_migrations, and data in users, therapy_sessions and invoices.
 * Every step's end state is read back from the database by this process, not from what the
 * commands printed.
 */

const VERIFY_SQL = path.join(PROJECT_ROOT, 'docs', 'sql', 'verify-backfill.sql');
const OUR_MIGRATIONS = COMMONJS_APP.ourMigrations;
const APP_MIGRATIONS = COMMONJS_APP.appMigrations;
const packed = usePackedPackage();

/** The variant of the example app whose own migration created treatment_goals. */
const VARIANT = path.join(EXAMPLE, 'with-app-goals');
const VARIANT_MIGRATION = '20260601000000_app_treatment_goals.js';
const APP_GOALS = readFileSync(path.join(VARIANT, 'app-goals.sql'), 'utf8');
/** The clinicians' goals give patient one 'Read a chapter' (twice): the backfill writes no other. */
const EXPECTED_WITH_APP_GOALS = EXPECTED_GOALS.filter(
  ([patient, description]) => !(patient === '…0001' && description === 'Read a chapter'),
);

/** The variant's database: the app's migrations, its own treatment_goals among them, and its rows. */
async function appGoalsDatabase(app: string): Promise<TestDatabase> {
  cpSync(path.join(VARIANT, VARIANT_MIGRATION), path.join(app, 'migrations', VARIANT_MIGRATION));
  const db = await appDatabase(app);
  await db.knex.raw(APP_GOALS);
  return db;
}

/** treatment_goals as the catalogs and rows say: its definition and every row's app columns. */
async function goalTable(
  knex: Knex,
): Promise<{ definition: TableDefinition; rows: Record<string, unknown>[] }> {
  const rows = queryRows<Record<string, unknown>>(
    await knex.raw(
      `SELECT CAST(id AS text) AS id, patient_id, therapist_id, session_id, description, category,
              details, CAST(status AS text) AS status, CAST(target_date AS text) AS target_date,
              CAST(created_at AS text) AS created_at
         FROM treatment_goals ORDER BY id`,
    ),
  );
  return { definition: await tableDefinition(knex, 'treatment_goals'), rows };
}

/** One way to deploy: the commands an operator types for each step. */
interface DeployPath {
  schema: () => Promise<unknown>;
  dryRun: () => Promise<CommandResult>;
  latest: () => Promise<unknown>;
  rollback: () => Promise<unknown>;
  /** How many `migrate:rollback`s take the schema migration back out, after `latest`. */
  batchesToSchema: number;
}

/**
 * The migration guide on the variant, step by step, reading treatment_goals back after each:
 * schema, dry run, migrate, the verification SQL, a clinician entering a repeated goal, rollback
 * of each batch, and migrate again.
 */
async function deployOnAppGoals(db: TestDatabase, deploy: DeployPath): Promise<void> {
  const original = await goalTable(db.knex);
  expect(original.rows).toHaveLength(3);

  await deploy.schema();
  let now = await goalTable(db.knex);
  expect(now.definition).toEqual(adoptedDefinition(original.definition));
  expect(now.rows).toEqual(original.rows);

  const dry = await deploy.dryRun();
  expect(dry.code).toBe(0);
  expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, goalsCreated: 3 });
  expect((await goalTable(db.knex)).rows).toEqual(original.rows);

  await deploy.latest();
  now = await goalTable(db.knex);
  expect(await backfilledGoals(db.knex)).toEqual(EXPECTED_WITH_APP_GOALS);
  expect(now.rows.slice(0, 3)).toEqual(original.rows);
  expect(now.definition).toEqual(adoptedDefinition(original.definition));
  await ok(exec('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', db.url, '-f', VERIFY_SQL], VARIANT));
  for (const check of await verifyChecks(db.knex)) {
    expect(check.values, check.title).toEqual(check.values.map(() => 0));
  }

  // A clinician sets patient two's backfilled goal again: the app's write is the app's.
  await db.knex.raw(
    `INSERT INTO treatment_goals (patient_id, description, status)
     VALUES ('00000000-0000-4000-8000-000000000002', 'Walk daily', 'assigned')`,
  );
  const withRepeat = (await goalTable(db.knex)).rows.filter(
    (row) => row.description === 'Walk daily',
  );
  expect(withRepeat).toHaveLength(3);
  const appRows = [...original.rows, (await goalTable(db.knex)).rows.at(-1)];

  await deploy.rollback();
  now = await goalTable(db.knex);
  expect(await backfilledGoals(db.knex)).toEqual([]);
  expect(now.rows).toEqual(appRows);
  expect(now.definition).toEqual(adoptedDefinition(original.definition));
  for (let batch = 1; batch < deploy.batchesToSchema; batch += 1) await deploy.rollback();
  now = await goalTable(db.knex);
  expect(now.definition).toEqual(original.definition);
  expect(now.rows).toEqual(appRows);

  await deploy.latest();
  expect(await backfilledGoals(db.knex)).toEqual(
    EXPECTED_WITH_APP_GOALS.filter(
      ([patient, description]) => !(patient === '…0002' && description === 'Walk daily'),
    ),
  );
  expect((await goalTable(db.knex)).definition).toEqual(adoptedDefinition(original.definition));
}

describe.skipIf(onPglite)('the package in an app', () => {
  for (const knexVersion of ['3.1.0', devDependency('knex').split('@')[1] ?? '']) {
    it(`type-checks and deploys through the app's own chain with knex ${knexVersion}`, async () => {
      const withCli = knexVersion !== '3.1.0';
      const app = await packed.installApp(`app-knex-${knexVersion}`, {
        packages: [
          `knex@${knexVersion}`,
          ...(withCli ? [devDependency('yargs'), devDependency('cli-progress')] : []),
        ],
      });
      await ok(
        exec(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], app),
      );
      const installed = JSON.parse(
        readFileSync(path.join(app, 'node_modules', 'knex', 'package.json'), 'utf8'),
      );
      expect(installed.version).toBe(knexVersion);
      // Light for library users: the embedded database is not installed with the package.
      expect(() => require.resolve('@electric-sql/pglite', { paths: [app] })).toThrow();

      const db = await appDatabase(app);
      try {
        const env = { DATABASE_URL: db.url, GOAL_BACKFILL_LOG_LEVEL: 'warn' };
        const appData = await appTableDigests(db.knex);

        // Step 1: the schema.
        await ok(exec('npx', ['knex', 'migrate:up', OUR_MIGRATIONS[0] ?? ''], app, env));
        // Step 2: the dry run writes nothing.
        const dry = await exec('npx', ['goal-backfill', 'run', '--dry-run', '--json'], app, env);
        if (withCli) {
          expect(dry.code).toBe(0);
          expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, goalsCreated: 4 });
        } else {
          expect(dry.code).toBe(2);
          const lines = dry.stderr
            .split('\n')
            .filter((line) => line && !line.startsWith('npm warn'));
          expect(lines).toEqual([
            'goal-backfill: the CLI needs optional peer packages that are not installed: npm install yargs@18 cli-progress@3',
          ]);
        }
        expect(await backfilledGoals(db.knex)).toEqual([]);
        // Step 3: execute.
        await ok(exec('npx', ['knex', 'migrate:latest'], app, env));
        expect(await backfilledGoals(db.knex)).toEqual(EXPECTED_GOALS);
        expect(await appTableDigests(db.knex)).toEqual(appData);
        expect(await knexMigrationNames(db.knex, 'knex_migrations')).toEqual([
          ...APP_MIGRATIONS,
          ...OUR_MIGRATIONS,
        ]);
        // Step 4: verify.
        await ok(
          exec('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', db.url, '-f', VERIFY_SQL], app),
        );
        // Rollback: the backfill, then the schema; the app's data and history stay.
        await ok(exec('npx', ['knex', 'migrate:rollback'], app, env));
        expect(await backfilledGoals(db.knex)).toEqual([]);
        await ok(exec('npx', ['knex', 'migrate:rollback'], app, env));
        expect(await db.knex.schema.hasTable('treatment_goals')).toBe(false);
        expect(await appTableDigests(db.knex)).toEqual(appData);
        expect(await knexMigrationNames(db.knex, 'knex_migrations')).toEqual(APP_MIGRATIONS);
      } finally {
        await db.drop();
      }
    });
  }

  it("deploys with this project's own chain against the app's database, leaving the app's migration history alone", async () => {
    const app = await packed.installApp('app-own-chain', { packages: [devDependency('knex')] });
    const db = await appDatabase(app);
    try {
      const env = { DATABASE_URL: db.url, GOAL_BACKFILL_LOG_LEVEL: 'warn', NODE_ENV: undefined };
      const appData = await appTableDigests(db.knex);
      const knex = (...args: string[]) => ok(runCommand('npx', ['knex', ...args], env));

      await knex('migrate:up', '20261101000000_create_app_tables.ts');
      await knex('migrate:up', '20261101000001_create_treatment_goals.ts');
      const dry = await ok(
        runCommand('npm', ['run', '--silent', 'backfill', '--', 'run', '--dry-run', '--json'], env),
      );
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, goalsCreated: 4 });
      expect(await backfilledGoals(db.knex)).toEqual([]);
      await knex('migrate:latest');
      expect(await backfilledGoals(db.knex)).toEqual(EXPECTED_GOALS);
      expect(await appTableDigests(db.knex)).toEqual(appData);
      await ok(
        exec('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', db.url, '-f', VERIFY_SQL], PROJECT_ROOT),
      );

      await knex('migrate:rollback', '--all');
      expect(await db.knex.schema.hasTable('treatment_goals')).toBe(false);
      expect(await appTableDigests(db.knex)).toEqual(appData);
      expect(await knexMigrationNames(db.knex, 'knex_migrations')).toEqual(APP_MIGRATIONS);
      expect(await knexMigrationNames(db.knex, 'goal_backfill_migrations')).toEqual([]);
    } finally {
      await db.drop();
    }
  });

  it("adopts the app's own treatment_goals through both deploy paths, and gives it back as it was", async () => {
    const app = await packed.installApp('app-goals', {
      packages: [devDependency('knex'), devDependency('yargs'), devDependency('cli-progress')],
    });
    const env = { DATABASE_URL: '', GOAL_BACKFILL_LOG_LEVEL: 'warn', NODE_ENV: undefined };

    // The library's migrations in the app's own chain, with the app's npx knex.
    const inApp = await appGoalsDatabase(app);
    try {
      const appEnv = { ...env, DATABASE_URL: inApp.url };
      await deployOnAppGoals(inApp, {
        schema: () => ok(exec('npx', ['knex', 'migrate:up', OUR_MIGRATIONS[0] ?? ''], app, appEnv)),
        dryRun: () => exec('npx', ['goal-backfill', 'run', '--dry-run', '--json'], app, appEnv),
        latest: () => ok(exec('npx', ['knex', 'migrate:latest'], app, appEnv)),
        rollback: () => ok(exec('npx', ['knex', 'migrate:rollback'], app, appEnv)),
        batchesToSchema: 2,
      });
      expect(await knexMigrationNames(inApp.knex, 'knex_migrations')).toEqual([
        ...APP_MIGRATIONS,
        VARIANT_MIGRATION,
        ...OUR_MIGRATIONS,
      ]);
    } finally {
      await inApp.drop();
    }

    // This project's own chain against the app's database, with the Knex CLI of this checkout.
    const ownChain = await appGoalsDatabase(app);
    try {
      const ownEnv = { ...env, DATABASE_URL: ownChain.url };
      const knex = (...args: string[]) => ok(runCommand('npx', ['knex', ...args], ownEnv));
      await deployOnAppGoals(ownChain, {
        schema: async () => {
          await knex('migrate:up', '20261101000000_create_app_tables.ts');
          await knex('migrate:up', '20261101000001_create_treatment_goals.ts');
        },
        dryRun: () =>
          runCommand(
            'npm',
            ['run', '--silent', 'backfill', '--', 'run', '--dry-run', '--json'],
            ownEnv,
          ),
        latest: () => knex('migrate:latest'),
        rollback: () => knex('migrate:rollback'),
        batchesToSchema: 2,
      });
      expect(await knexMigrationNames(ownChain.knex, 'knex_migrations')).toEqual([
        ...APP_MIGRATIONS,
        VARIANT_MIGRATION,
      ]);
    } finally {
      await ownChain.drop();
    }
  }, 240_000);
});

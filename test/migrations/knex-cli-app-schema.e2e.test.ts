import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/sql-runner';
import { linesOf, runCli } from '../cli/cli-harness';
import { countOf } from '../seed/seeded-data';
import { createAppOwnedTables } from '../support/app-database';
import { insertSessions, insertUsers } from '../support/fixtures';
import { runCommand } from '../support/run-command';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

/**
 * An app whose tables live in the schema `app`, with nothing in `public`: its knexfile
 * (test/support/app-schema-knexfile.js) sets `searchPath: ['app']` and keeps Knex's migrations
 * table in `app` too. The chain runs through the Knex CLI, the operator CLI runs with
 * `--schema app` and with GOAL_BACKFILL_SCHEMA=app, and every end state is read from the
 * catalog and the tables by this process.
 */

const KNEXFILE = 'test/support/app-schema-knexfile.js';

let db: TestDatabase;
/** The test's own connection to the app's schema, for fixtures and direct reads. */
let app: Knex;
let patients: string[];

/** The Knex CLI on the app's knexfile; `schema` is its searchPath ('' for none). */
function knexCli(args: string[], env: Record<string, string> = {}, schema = 'app') {
  return runCommand('npx', ['knex', '--knexfile', KNEXFILE, ...args], {
    DATABASE_URL: db.url,
    APP_KNEXFILE_SCHEMA: schema,
    GOAL_BACKFILL_LOG_LEVEL: 'warn',
    GOAL_BACKFILL_SCHEMA: undefined,
    NODE_ENV: undefined,
    ...env,
  });
}

/** The lines a person reads, without the Knex CLI's own banner lines. */
function meaningfulLines(text: string): string[] {
  return linesOf(text).filter(
    (line) => !/^(Working directory changed|Using environment|Requiring external)/.test(line),
  );
}

/** Everything in `public` that is not PostgreSQL's own: relations, functions, types. */
async function objectsInPublic(): Promise<string[]> {
  const rows = queryRows<{ name: string }>(
    await db.knex.raw(`
      SELECT 'relation ' || c.relname AS name FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
      UNION ALL
      SELECT 'function ' || p.proname FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
      UNION ALL
      SELECT 'type ' || t.typname FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'`),
  );
  return rows.map((row) => row.name).sort();
}

/** This package's objects in `app`, by kind: what the chain creates and its rollback removes. */
async function ourObjectsInApp(): Promise<string[]> {
  const rows = queryRows<{ name: string }>(
    await db.knex.raw(`
      SELECT 'relation ' || c.relname AS name FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'app' AND c.relkind IN ('r', 'i')
         AND (c.relname LIKE 'goal_backfill%' OR c.relname LIKE 'treatment_goals%'
              OR c.relname = 'therapy_sessions_patient_date_id_idx')
      UNION ALL
      SELECT 'function ' || p.proname FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'app'
      UNION ALL
      SELECT 'trigger ' || t.tgname FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'app' AND NOT t.tgisinternal`),
  );
  return rows.map((row) => row.name).sort();
}

async function backfilledGoals(): Promise<number> {
  return countOf(
    db.knex,
    "SELECT count(*) AS n FROM app.treatment_goals WHERE origin = 'backfill'",
  );
}

beforeAll(async () => {
  if (onPglite) return;
  db = await createTestDatabase();
  await db.knex.raw('CREATE SCHEMA app');
  // The app's own connection: every name in `app`, as its knexfile has it.
  app = knexFactory({
    client: 'pg',
    connection: db.url,
    searchPath: ['app'],
    pool: { min: 0, max: 1 },
  });
  await createAppOwnedTables(app);
  patients = await insertUsers(app, 2, 'patient');
  await insertSessions(app, [
    {
      patientId: patients[0] ?? '',
      sessionDate: '2024-01-01T00:00:00Z',
      notes: { action_items: [{ task: 'Walk daily' }, { task: 'Journal' }] },
    },
    {
      patientId: patients[1] ?? '',
      sessionDate: '2024-01-02T00:00:00Z',
      notes: { action_items: [{ task: 'Read' }] },
    },
  ]);
}, 60_000);

afterAll(async () => {
  await app?.destroy();
  await db?.drop();
});

// The subprocesses reach the test database through DATABASE_URL, which needs a server.
describe.skipIf(onPglite)("an app whose tables are in the schema 'app'", () => {
  it('refuses, in one line naming the table and where it looked, a knexfile without the schema', async () => {
    const migrate = await knexCli(['migrate:latest'], {}, '');

    expect(migrate.code).toBe(1);
    const lines = meaningfulLines(migrate.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /SchemaNotReadyError: users, therapy_sessions not found in schema "public" \(search_path "\$user", public\): set GOAL_BACKFILL_SCHEMA \(--schema in the CLI\) or the knexfile searchPath/,
    );
    expect(migrate.stderr).not.toMatch(/^\s+at /m);
    // Knex made its migrations table before the migration ran; the migration made nothing.
    expect(await objectsInPublic()).toEqual(
      expect.not.arrayContaining([expect.stringMatching(/goal|treatment/)]),
    );
    await db.knex.raw('DROP TABLE public.knex_migrations, public.knex_migrations_lock');
    expect(await objectsInPublic()).toEqual([]);
    expect(await ourObjectsInApp()).toEqual([]);
  });

  it('refuses a GOAL_BACKFILL_SCHEMA that disagrees with the knexfile searchPath, before any change', async () => {
    const migrate = await knexCli(['migrate:latest'], { GOAL_BACKFILL_SCHEMA: 'public' });

    expect(migrate.code).toBe(1);
    const lines = meaningfulLines(migrate.stderr);
    expect(lines).toEqual([
      expect.stringContaining(
        `ConfigError: the schema is given as GOAL_BACKFILL_SCHEMA "public" and the knexfile's searchPath "app": give it in one place, or the same in each`,
      ),
    ]);
    expect(await ourObjectsInApp()).toEqual([]);
    expect(await objectsInPublic()).toEqual([]);
  });

  it('migrates through the Knex CLI with the knexfile searchPath: everything in app, nothing in public', async () => {
    const migrate = await knexCli(['migrate:latest']);

    expect(migrate.code, migrate.stderr).toBe(0);
    expect(meaningfulLines(migrate.stderr)).toEqual([]);
    expect(await backfilledGoals()).toBe(3);
    expect(
      await countOf(
        db.knex,
        "SELECT count(*) AS n FROM app.goal_backfill_runs WHERE status = 'succeeded'",
      ),
    ).toBe(1);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM app.knex_migrations')).toBe(3);
    expect(await ourObjectsInApp()).toEqual([
      'function goal_backfill_baseline',
      'function goal_backfill_capture_session_change',
      'function goal_clinical_fingerprint',
      'function goal_description_key',
      'function goal_mark_touched',
      'relation goal_backfill_failures',
      'relation goal_backfill_failures_pkey',
      'relation goal_backfill_failures_run_idx',
      'relation goal_backfill_failures_session_idx',
      'relation goal_backfill_runs',
      'relation goal_backfill_runs_pkey',
      'relation goal_backfill_runs_status_started_idx',
      'relation goal_backfill_session_changes',
      'relation goal_backfill_session_changes_pkey',
      'relation goal_backfill_session_changes_session_idx',
      'relation therapy_sessions_patient_date_id_idx',
      'relation treatment_goals',
      'relation treatment_goals_patient_description_idx',
      'relation treatment_goals_pkey',
      'relation treatment_goals_session_idx',
      'trigger treatment_goals_mark_touched',
      'trigger zz_treatment_goals_backfill_baseline',
    ]);
    expect(await objectsInPublic()).toEqual([]);
  });

  it('runs, reports and rolls back from the CLI with --schema and with GOAL_BACKFILL_SCHEMA', async () => {
    const env = { DATABASE_URL: db.url };
    await insertSessions(app, [
      {
        patientId: patients[1] ?? '',
        sessionDate: '2024-02-01T00:00:00Z',
        notes: { action_items: [{ task: 'Stretch' }] },
      },
    ]);

    const run = await runCli(['run', '--schema', 'app', '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ goalsCreated: 1, errors: 0 });
    expect(await backfilledGoals()).toBe(4);

    const status = await runCli(['status', '--json'], {
      env: { ...env, GOAL_BACKFILL_SCHEMA: 'app' },
    });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      goals: { unchangedBackfill: 4 },
      knexMigrationLockStuck: false,
    });

    // The app's Knex migration lock lives in app too, and status finds it there.
    await db.knex.raw('UPDATE app.knex_migrations_lock SET is_locked = 1');
    const stuck = await runCli(['status', '--schema', 'app', '--json'], { env });
    expect(JSON.parse(stuck.stdout)).toMatchObject({ knexMigrationLockStuck: true });
    await db.knex.raw('UPDATE app.knex_migrations_lock SET is_locked = 0');

    const rollback = await runCli(['rollback', '--json'], {
      env: { ...env, GOAL_BACKFILL_SCHEMA: 'app' },
    });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(JSON.parse(rollback.stdout)).toMatchObject({ deleted: 4 });
    expect(await backfilledGoals()).toBe(0);

    const again = await runCli(['run', '--json'], { env: { ...env, GOAL_BACKFILL_SCHEMA: 'app' } });
    expect(again.code, again.stderr).toBe(0);
    expect(await backfilledGoals()).toBe(4);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM app.therapy_sessions')).toBe(3);
    expect(await objectsInPublic()).toEqual([]);
  });

  it('says which table it missed and where it looked when the CLI is not told the schema, exit 2', async () => {
    const env = { DATABASE_URL: db.url };
    for (const command of ['run', 'status', 'rollback']) {
      const missed = await runCli([command], { env });
      expect(missed.code).toBe(2);
      expect(linesOf(missed.stderr)).toEqual([
        'goal-backfill: error: therapy_sessions, treatment_goals, goal_backfill_runs, goal_backfill_failures ' +
          'not found in schema "public" (search_path "$user", public): set GOAL_BACKFILL_SCHEMA ' +
          "(--schema in the CLI) or the knexfile searchPath to the app's schema, or run " +
          '`npx knex migrate:latest` first [SCHEMA_NOT_READY]',
      ]);
    }
    const nowhere = await runCli(['status', '--schema', 'tenant_b'], { env });
    expect(nowhere.code).toBe(2);
    expect(linesOf(nowhere.stderr)).toEqual([
      'goal-backfill: error: schema "tenant_b" does not exist in this database: set GOAL_BACKFILL_SCHEMA ' +
        "(--schema in the CLI) to the schema that holds the app's therapy_sessions, spelled as the " +
        'catalog has it [CONFIG_INVALID]',
    ]);
    const variable = await runCli(['run'], { env: { ...env, GOAL_BACKFILL_SCHEMA: 'app,public' } });
    expect(variable.code).toBe(2);
    expect(linesOf(variable.stderr)).toEqual([
      expect.stringMatching(
        /^goal-backfill: error: GOAL_BACKFILL_SCHEMA must name one schema, not a search_path \(got "app,public"\); see/,
      ),
    ]);
    expect(await backfilledGoals()).toBe(4);
    expect(await objectsInPublic()).toEqual([]);
  });

  it('rolls the chain back through the Knex CLI: the app tables and their rows stay, nothing of ours is left', async () => {
    const rollback = await knexCli(['migrate:rollback', '--all']);

    expect(rollback.code, rollback.stderr).toBe(0);
    expect(await ourObjectsInApp()).toEqual([]);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM app.therapy_sessions')).toBe(3);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM app.users')).toBe(2);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM app.knex_migrations')).toBe(0);
    expect(await objectsInPublic()).toEqual([]);
  });
});

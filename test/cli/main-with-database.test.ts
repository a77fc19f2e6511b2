import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { linesOf, runCli, withoutServer } from './cli-harness';

const PASSWORD = 'pa55-w0rd-never-printed';
const COMMANDS = [['run'], ['run', '--dry-run'], ['rollback'], ['status']];

describe('DATABASE_URL problems exit 2 with one line, for every command', () => {
  it.each(COMMANDS)(
    '%s: unset in production, which never falls back to the embedded database',
    async (...argv) => {
      const run = await runCli(argv, { env: { NODE_ENV: 'production' } });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(linesOf(run.stderr)).toEqual([
        'goal-backfill: error: DATABASE_URL is not set: production never falls back to the embedded database; set DATABASE_URL=postgres://user:password@host:5432/database [CONFIG_INVALID]',
      ]);
    },
  );

  it.each(COMMANDS)('%s: not a PostgreSQL URL', async (...argv) => {
    const run = await runCli(argv, { env: { DATABASE_URL: `mysql://root:${PASSWORD}@db/app` } });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('DATABASE_URL must start with postgres:// or postgresql://');
    expect(run.stderr).not.toContain(PASSWORD);
  });

  it.each(COMMANDS)('%s: nobody listening on the port', async (...argv) => {
    const run = await runCli(argv, {
      env: { DATABASE_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:1/x` },
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(linesOf(run.stderr)).toEqual([
      'goal-backfill: error: cannot reach the database at postgres://postgres@127.0.0.1:1/x (connection refused [ECONNREFUSED]): check DATABASE_URL and that the server is up [DATABASE_UNREACHABLE]',
    ]);
  });

  it('keeps the password out of the --verbose trace too', async () => {
    const run = await runCli(['run', '--verbose'], {
      env: { DATABASE_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:1/x` },
    });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr).length).toBeGreaterThan(1);
    expect(run.stderr).toContain('caused by: ECONNREFUSED during connect [ECONNREFUSED]');
    expect(run.stderr).not.toContain(PASSWORD);
  });
});

describe.skipIf(withoutServer)('a server that answers but cannot serve the CLI', () => {
  let unmigrated: TestDatabase;

  beforeAll(async () => {
    unmigrated = await createTestDatabase();
  });

  afterAll(async () => {
    await unmigrated.drop();
  });

  it.each(COMMANDS)('%s: a database that does not exist exits 2', async (...argv) => {
    const url = new URL(unmigrated.url);
    url.password = PASSWORD;
    url.pathname = '/no_such_database_for_cli_tests';
    const run = await runCli(argv, { env: { DATABASE_URL: url.toString() } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('(database does not exist [3D000])');
    expect(run.stderr).toContain(`@${url.host}/no_such_database_for_cli_tests`);
    expect(run.stderr).not.toContain(PASSWORD);
  });

  it.each(COMMANDS)(
    '%s: a schema that was never migrated exits 2, naming the fix',
    async (...argv) => {
      const run = await runCli(argv, { env: { DATABASE_URL: unmigrated.url } });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      const errors = linesOf(run.stderr).filter((line) => line.startsWith('goal-backfill: error:'));
      expect(errors).toEqual([
        'goal-backfill: error: therapy_sessions, treatment_goals, goal_backfill_runs, goal_backfill_failures not found in schema "public" (search_path "$user", public): set GOAL_BACKFILL_SCHEMA (--schema in the CLI) or the knexfile searchPath to the app\'s schema, or run `npx knex migrate:latest` first [SCHEMA_NOT_READY]',
      ]);
      expect(run.stderr).not.toMatch(/^\s+at /m);
    },
  );
});

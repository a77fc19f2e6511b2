import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertSessions, insertUsers, readGoals } from '../support/fixtures';
import { runCommand } from '../support/run-command';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db.drop();
});

function knex(...args: string[]) {
  return runCommand('npx', ['knex', ...args], {
    DATABASE_URL: db.url,
    GOAL_BACKFILL_LOG_LEVEL: 'info',
    NODE_ENV: undefined,
  });
}

// The subprocesses reach the test database through DATABASE_URL, which needs a server.
describe.skipIf(onPglite)('the Knex commands, typed verbatim from the project root', () => {
  it('migrate:latest creates the schema and backfills the sessions already there', async () => {
    const first = await knex('migrate:up');
    expect(first.code).toBe(0);
    const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
    await insertSessions(db.knex, [
      {
        patientId: patient,
        sessionDate: '2024-01-01T00:00:00Z',
        notes: { action_items: [{ task: 'Walk' }, { task: 'Read' }] },
      },
    ]);

    const latest = await knex('migrate:latest');
    expect(latest.code).toBe(0);
    expect(latest.stdout).toContain('Batch 2 run: 3 migrations');
    expect(latest.stderr).toMatch(/info\s+backfill\.finish .*goalsCreated=2/);
    expect((await readGoals(db.knex)).map((goal) => goal.description).sort()).toEqual([
      'Read',
      'Walk',
    ]);
  });

  it('migrate:list shows the four migrations in order', async () => {
    const list = await knex('migrate:list');
    expect(list.code).toBe(0);
    const names = list.stdout.match(/2026\d+_\w+\.ts/g);
    expect(names).toEqual([
      '20261101000000_create_app_tables.ts',
      '20261101000001_create_treatment_goals.ts',
      '20261101000001_treatment_goals_dedup_rule.ts',
      '20261101000002_backfill_treatment_goals.ts',
    ]);
  });

  it('migrate:down takes the backfilled goals out and migrate:latest puts them back', async () => {
    const down = await knex('migrate:down');
    expect(down.code).toBe(0);
    expect(down.stderr).toMatch(/rollback\.finish .*deleted=2/);
    expect(await readGoals(db.knex)).toEqual([]);
    expect((await knex('migrate:latest')).code).toBe(0);
    expect(await readGoals(db.knex)).toHaveLength(2);
  });

  it('migrate:rollback undoes the last batch, the backfill with it', async () => {
    const rollback = await knex('migrate:rollback');
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toMatch(/Batch \d+ rolled back: 1 migrations/);
    expect(await readGoals(db.knex)).toEqual([]);
  });

  it('a malformed DATABASE_URL is refused with a message that says what to fix, without the password', async () => {
    const result = await runCommand('npx', ['knex', 'migrate:list'], {
      DATABASE_URL: 'mysql://admin:s3cret-pw@db.example:3306/app',
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('DATABASE_URL must start with postgres:// or postgresql://');
    expect(result.stdout + result.stderr).not.toContain('s3cret-pw');
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countOf } from '../seed/seeded-data';
import { completedMigrations, tableExists } from '../support/app-database';
import { insertClinicianGoal, insertSessions, insertUsers } from '../support/fixtures';
import { runCommand } from '../support/run-command';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

const MARKER = 'PLANTED-health-text-7f3c';

let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await db.drop();
});

function knex(...args: string[]) {
  return runCommand('npx', ['knex', ...args], {
    DATABASE_URL: db.url,
    GOAL_BACKFILL_LOG_LEVEL: 'warn',
    NODE_ENV: undefined,
    SEED_SESSIONS: '300',
  });
}

function npmRun(script: string) {
  return runCommand('npm', ['run', '--silent', script], {
    DATABASE_URL: db.url,
    GOAL_BACKFILL_LOG_LEVEL: 'warn',
    NODE_ENV: undefined,
  });
}

/** Lines a person reads, without the Knex CLI's own banner lines. */
function meaningfulLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !/^(Using environment|Requiring external module|npm warn)/.test(line));
}

async function deployWithGoals(): Promise<string[]> {
  expect((await knex('migrate:up')).code).toBe(0);
  const patients = await insertUsers(db.knex, 2, 'patient');
  await insertSessions(db.knex, [
    {
      patientId: patients[0] ?? '',
      sessionDate: '2024-01-01T00:00:00Z',
      notes: { action_items: [{ task: `${MARKER} walk`, details: MARKER }] },
    },
    {
      patientId: patients[1] ?? '',
      sessionDate: '2024-01-02T00:00:00Z',
      notes: { action_items: [{ task: 'Read' }] },
    },
  ]);
  expect((await knex('migrate:latest')).code).toBe(0);
  return patients;
}

// The subprocesses reach the test database through DATABASE_URL, which needs a server.
describe.skipIf(onPglite)('the Knex CLI on the paths users take', () => {
  it('rolls back the deploy batch while clinician goals exist: exit 0, one line saying what it kept, nothing else changed', async () => {
    const patients = await deployWithGoals();
    await insertClinicianGoal(db.knex, { patientId: patients[1] ?? '', description: 'By hand' });

    const rollback = await knex('migrate:rollback');

    expect(rollback.code).toBe(0);
    const lines = meaningfulLines(rollback.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/warn\s+rollback\.kept_treatment_goals clinicianGoals=1 /);
    expect(lines[0]).toContain('npx knex migrate:latest');
    expect(rollback.stderr).not.toMatch(/^\s+at /m);
    expect(await tableExists(db.knex, 'treatment_goals')).toBe(true);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM treatment_goals')).toBe(1);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM therapy_sessions')).toBe(2);
    expect(await completedMigrations(db.knex)).toEqual(['20261101000000_create_app_tables.ts']);

    expect((await knex('migrate:latest')).code).toBe(0);
    expect(
      await countOf(db.knex, "SELECT count(*) AS n FROM treatment_goals WHERE origin = 'backfill'"),
    ).toBe(2);
  });

  it('reports an error thrown in a rollback as one line free of the row values a trigger quotes', async () => {
    await deployWithGoals();
    await db.knex.raw(`
      CREATE FUNCTION refuse_goal_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'cannot delete goal %', OLD.description
          USING DETAIL = OLD.description, HINT = OLD.description,
                CONSTRAINT = OLD.description, COLUMN = OLD.description, TABLE = OLD.description;
      END $$;
      CREATE TRIGGER refuse_goal_delete BEFORE DELETE ON treatment_goals
        FOR EACH ROW EXECUTE FUNCTION refuse_goal_delete();`);

    const rollback = await knex('migrate:rollback');

    expect(rollback.code).toBe(1);
    expect(rollback.stdout + rollback.stderr).not.toContain(MARKER);
    const lines = meaningfulLines(rollback.stderr);
    expect(lines).toHaveLength(1);
    // The Knex CLI may colour the line: the error's name follows the colour code, if any. The
    // trigger refuses every goal, so the first batch deleted none, as the table shows.
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM treatment_goals')).toBe(2);
    expect(lines[0]).toMatch(
      /(?:^|m)RollbackFailedError: rollback stopped after deleting 0 backfilled goal\(s\): raise_exception \[P0001\]\. Deleted goals stay deleted: run the rollback again to delete the rest/,
    );
  });

  it('rolls a seeded local database back, one batch and then all, without any override, keeping the app tables', async () => {
    expect((await knex('migrate:latest')).code).toBe(0);
    const seed = await knex('seed:run');
    expect(seed.code).toBe(0);
    const seededSessions = await countOf(db.knex, 'SELECT count(*) AS n FROM therapy_sessions');
    expect(seededSessions).toBe(300);
    expect(
      await countOf(db.knex, "SELECT count(*) AS n FROM treatment_goals WHERE origin = 'seed'"),
    ).toBeGreaterThan(0);

    const rollback = await knex('migrate:rollback');
    expect(rollback.code).toBe(0);
    expect(rollback.stderr).not.toMatch(/^\s+at /m);
    expect(await tableExists(db.knex, 'treatment_goals')).toBe(false);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM therapy_sessions')).toBe(300);

    expect((await knex('migrate:latest')).code).toBe(0);
    expect((await knex('migrate:rollback', '--all')).code).toBe(0);
    expect(await completedMigrations(db.knex)).toEqual([]);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM therapy_sessions')).toBe(300);
  });

  it('npm run db:reset empties a database this chain built and the seeds filled, in one command', async () => {
    expect((await knex('migrate:latest')).code).toBe(0);
    expect((await knex('seed:run')).code).toBe(0);

    const reset = await npmRun('db:reset');

    expect(reset.code).toBe(0);
    expect(await completedMigrations(db.knex)).toHaveLength(4);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM users')).toBe(0);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM therapy_sessions')).toBe(0);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM treatment_goals')).toBe(0);
  });

  it('seeds and db:reset refuse a database holding rows they did not create, and delete nothing', async () => {
    expect((await knex('migrate:latest')).code).toBe(0);
    const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
    await insertSessions(db.knex, [
      { patientId: patient, sessionDate: '2024-01-01T00:00:00Z', notes: { action_items: [] } },
    ]);
    await insertClinicianGoal(db.knex, { patientId: patient, description: 'By hand' });

    const seed = await knex('seed:run');
    const reset = await npmRun('db:reset');

    for (const result of [seed, reset]) {
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(
        'rows the seeds did not create (1 user(s), 1 session(s), 1 goal(s))',
      );
    }
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM users')).toBe(1);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM therapy_sessions')).toBe(1);
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM treatment_goals')).toBe(1);
    expect(await completedMigrations(db.knex)).toHaveLength(4);
  });
});

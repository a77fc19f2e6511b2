import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUsers, tableCounts } from '../support/fixtures';
import { runCommand } from '../support/run-command';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.migrateLatest();
});

afterAll(async () => {
  await db.drop();
});

function seedRun(env: Record<string, string | undefined> = {}) {
  return runCommand('npx', ['knex', 'seed:run'], {
    DATABASE_URL: db.url,
    GOAL_BACKFILL_LOG_LEVEL: 'info',
    NODE_ENV: undefined,
    SEED_SESSIONS: undefined,
    ...env,
  });
}

/** stderr without blank lines and without npm's and Knex's own notices. */
function meaningfulLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter(
      (text) =>
        text.trim() !== '' && !/^(npm warn|Requiring external|Using environment)/.test(text),
    );
}

// The subprocess reaches the test database through DATABASE_URL, which needs a server.
describe.skipIf(onPglite)('npx knex seed:run, typed verbatim from the project root', () => {
  it('seeds SEED_SESSIONS sessions and logs the backfill summary', async () => {
    const run = await seedRun({ SEED_SESSIONS: '500' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Ran 1 seed files');
    expect(run.stderr).toMatch(/info\s+seed\.loaded .*sessions=500/);
    expect(run.stderr).toMatch(/info\s+backfill\.finish .*sessionsProcessed=500/);
    expect(run.stderr).toMatch(
      /info\s+seed\.backfill_summary .*goalsCreated=\d+ duplicatesSkipped=\d+ invalidSkipped=\d+/,
    );
    const counts = await tableCounts(db.knex);
    expect(counts.therapy_sessions).toBe(500);
    expect(counts.users).toBe(26);
    expect(counts.goal_backfill_runs).toBe(1);
    // What the seed logged as written is there for another connection once the CLI has exited.
    const logged = Number(/seed\.backfill_summary .*goalsCreated=(\d+)/.exec(run.stderr)?.[1]);
    const goals = await db.knex('treatment_goals').where({ origin: 'backfill' }).count('* as n');
    expect(Number(goals[0]?.n)).toBe(logged);
    const runRecord = await db.knex('goal_backfill_runs').first();
    expect(runRecord?.status).toBe('succeeded');
    expect(Number(runRecord?.counts.goalsCreated)).toBe(logged);
  });

  it.each([
    [
      { SEED_SESSIONS: 'many' },
      'knex seed:run: SEED_SESSIONS must be a whole number from 1 to 10000000, e.g. SEED_SESSIONS=2000 (got "many")',
    ],
    [
      { GOAL_BACKFILL_LOG_LEVEL: 'loud' },
      'knex seed:run: GOAL_BACKFILL_LOG_LEVEL must be one of error, warn, info, debug (got "loud")',
    ],
  ])(
    'refuses %j with exit 2 and one line that says what to set, and writes nothing',
    async (env, line) => {
      const before = await tableCounts(db.knex);
      const run = await seedRun(env);
      expect(run.code).toBe(2);
      expect(meaningfulLines(run.stderr)).toEqual([line]);
      expect(await tableCounts(db.knex)).toEqual(before);
    },
  );

  const REFUSAL_TAIL =
    'Seeding replaces the seeded users, sessions and goals; run it against a development or ' +
    'scratch database that only seeds have filled';

  it.each([
    [
      'NODE_ENV=production',
      { NODE_ENV: 'production' },
      [],
      `knex seed:run: refusing to seed: NODE_ENV is production. ${REFUSAL_TAIL} (unset NODE_ENV)`,
    ],
    [
      '--env production',
      {},
      ['--env', 'production'],
      `knex seed:run: refusing to seed: the Knex environment is production (--env). ${REFUSAL_TAIL} (drop --env production)`,
    ],
  ])(
    'refuses %s with exit 2 and one line, its own fix only, and writes nothing',
    async (_, env, args, line) => {
      const before = await tableCounts(db.knex);
      const run = await runCommand('npx', ['knex', 'seed:run', ...args], {
        DATABASE_URL: db.url,
        NODE_ENV: undefined,
        ...env,
      });
      expect(run.code).toBe(2);
      expect(meaningfulLines(run.stderr)).toEqual([line]);
      expect(await tableCounts(db.knex)).toEqual(before);
    },
  );

  it('refuses a database holding a row the seeds did not create: exit 2, one line, nothing deleted', async () => {
    const [patient = ''] = await insertUsers(db.knex, 1);
    const before = await tableCounts(db.knex);
    const run = await seedRun();
    expect(run.code).toBe(2);
    expect(meaningfulLines(run.stderr)).toEqual([
      'knex seed:run: refusing to seed: the database holds rows the seeds did not create ' +
        `(1 user(s), 0 session(s), 0 goal(s)). ${REFUSAL_TAIL}`,
    ]);
    expect(await tableCounts(db.knex)).toEqual(before);
    expect(await db.knex('users').where({ id: patient }).first()).toBeDefined();
    await db.knex('users').where({ id: patient }).delete();
  });
});

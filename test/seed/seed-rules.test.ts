import { describe, expect, it } from 'vitest';
import { GOAL_STATUSES } from '../../src/schema/goal-vocabulary';
import { INVALID_ITEM_REASONS, SESSION_SKIP_REASONS } from '../../src/bookkeeping/count-reasons';
import { JS_TRIM_CHARACTERS } from '../../src/backfill/goal-rules';
import { ConfigError } from '../../src/errors/config-error';
import { assertSeedingAllowed, knexEnvironmentInArgv } from '../../src/seed/assert-seeding-allowed';
import { patientChunks } from '../../src/seed/patient-chunks';
import { planPopulation } from '../../src/seed/population';
import { readSeedSettings } from '../../src/seed/read-seed-settings';
import { runConcurrently } from '../../src/seed/run-concurrently';
import { SeedRefusedError } from '../../src/seed/seed-refused-error';
import {
  bucketLowerBounds,
  CLINICIAN_GOALS,
  ITEM_COUNT_PER_MILLE,
  ITEM_KINDS,
  SESSION_SHAPES,
} from '../../src/seed/seed-proportions';
import { BLANK_TASKS, TASK_PADDING } from '../../src/seed/therapy-phrases';

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

describe('the proportions', () => {
  it('share out a thousand in every table', () => {
    expect(sum(SESSION_SHAPES.map((shape) => shape.perMille))).toBe(1000);
    expect(sum(ITEM_KINDS.map((kind) => kind.perMille))).toBe(1000);
    expect(sum(ITEM_COUNT_PER_MILLE)).toBe(1000);
    expect(sum(CLINICIAN_GOALS.statusPerMille)).toBe(1000);
    expect(CLINICIAN_GOALS.statusPerMille).toHaveLength(GOAL_STATUSES.length);
  });

  it('cover every reason the backfill skips a session or an item for', () => {
    expect(new Set(SESSION_SHAPES.map((shape) => shape.skipReason))).toEqual(
      new Set([null, ...SESSION_SKIP_REASONS]),
    );
    // Values too long for a column occur only in an app's treatment_goals with varchar(n).
    const limits = ['task_too_long', 'category_too_long', 'details_too_long'];
    expect(new Set(ITEM_KINDS.map((kind) => kind.invalidReason))).toEqual(
      new Set([null, ...INVALID_ITEM_REASONS.filter((reason) => !limits.includes(reason))]),
    );
  });

  it('list the valid item kinds before the invalid ones', () => {
    const firstInvalid = ITEM_KINDS.findIndex((kind) => kind.invalidReason !== null);
    expect(ITEM_KINDS.slice(firstInvalid).every((kind) => kind.invalidReason !== null)).toBe(true);
  });

  it('turn shares into width_bucket lower bounds', () => {
    expect(bucketLowerBounds([690, 100, 210])).toEqual([0, 690, 790]);
    expect(bucketLowerBounds([])).toEqual([]);
  });

  it('blank tasks are blank and padding is whitespace under JavaScript trim', () => {
    for (const blank of BLANK_TASKS) expect(blank.trim()).toBe('');
    for (const padding of TASK_PADDING) {
      expect(padding).not.toBe('');
      expect([...padding].every((character) => JS_TRIM_CHARACTERS.includes(character))).toBe(true);
    }
  });
});

describe('the population', () => {
  it.each([
    [1, 1, 1],
    [39, 2, 1],
    [2000, 100, 4],
    [1_000_000, 50_000, 1667],
  ])('%i sessions have %i patients and %i therapists', (sessions, patients, therapists) => {
    expect(planPopulation(sessions)).toEqual({ patients, therapists });
  });

  it('is split into consecutive patient ranges that cover everyone once', () => {
    for (const [patients, sessions] of [
      [1, 1],
      [100, 2000],
      [50_000, 1_000_000],
      [7, 1_000_000],
    ] as const) {
      const ranges = patientChunks(patients, sessions);
      expect(ranges[0]?.first).toBe(1);
      expect(ranges.at(-1)?.last).toBe(patients);
      for (const [index, range] of ranges.entries()) {
        expect(range.first).toBeLessThanOrEqual(range.last);
        if (index > 0) expect(range.first).toBe((ranges[index - 1]?.last ?? 0) + 1);
      }
    }
    expect(patientChunks(50_000, 1_000_000)).toHaveLength(8);
  });
});

describe('runConcurrently', () => {
  it('returns results in input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await runConcurrently([30, 10, 20, 5, 15], 2, async (ms) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, ms));
      running -= 1;
      return ms * 2;
    });
    expect(results).toEqual([60, 20, 40, 10, 30]);
    expect(peak).toBe(2);
  });

  it('starts nothing new after a failure, lets running tasks settle, then throws the first error', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = runConcurrently([1, 2, 3, 4], 2, async (item) => {
      started.push(item);
      if (item === 1) throw new Error('first');
      await new Promise((resolve) => setTimeout(resolve, 20));
      settled += 1;
      return item;
    });
    await expect(run).rejects.toThrow('first');
    expect(started).toEqual([1, 2]);
    expect(settled).toBe(1);
  });
});

describe('SEED_SESSIONS', () => {
  it('defaults to 2000 and takes a whole number', () => {
    expect(readSeedSettings({}).sessions).toBe(2000);
    expect(readSeedSettings({ SEED_SESSIONS: '' }).sessions).toBe(2000);
    expect(readSeedSettings({ SEED_SESSIONS: ' 1000000 ' }).sessions).toBe(1_000_000);
  });

  it.each(['abc', '0', '-5', '1.5', '1e6', '10000001', '2_000'])(
    'refuses %j with one line that says what to set',
    (value) => {
      const read = () => readSeedSettings({ SEED_SESSIONS: value });
      expect(read).toThrow(ConfigError);
      expect(read).toThrow(
        `SEED_SESSIONS must be a whole number from 1 to 10000000, e.g. SEED_SESSIONS=2000 (got "${value.trim()}")`,
      );
      try {
        read();
      } catch (err) {
        expect((err as Error).message).not.toContain('\n');
      }
    },
  );

  it('is reported together with bad GOAL_BACKFILL_* variables', () => {
    expect(() =>
      readSeedSettings({ SEED_SESSIONS: 'lots', GOAL_BACKFILL_BATCH_SIZE: 'big' }),
    ).toThrow(/SEED_SESSIONS must be .*; GOAL_BACKFILL_BATCH_SIZE must be a whole number/);
  });

  it('passes the GOAL_BACKFILL_* settings on', () => {
    const settings = readSeedSettings({ GOAL_BACKFILL_BATCH_SIZE: '5000' });
    expect(settings.backfill.batchSize).toBe(5000);
  });
});

describe('the production guard', () => {
  it.each([
    [{ NODE_ENV: 'production' }, []],
    [{ NODE_ENV: ' production ' }, []],
    [{}, ['node', 'knex', 'seed:run', '--env', 'production']],
    [{ NODE_ENV: 'development' }, ['node', 'knex', 'seed:run', '--env=production']],
  ])('refuses %j with argv %j', (env, argv) => {
    expect(() => assertSeedingAllowed(env, argv)).toThrow(SeedRefusedError);
    expect(() => assertSeedingAllowed(env, argv)).toThrow(/^refusing to seed: .*production/);
  });

  it.each([
    [{ NODE_ENV: 'production' }, [], 'NODE_ENV is production', 'unset NODE_ENV'],
    [
      {},
      ['knex', 'seed:run', '--env', 'production'],
      'the Knex environment is production (--env)',
      'drop --env production',
    ],
    [
      { NODE_ENV: 'production' },
      ['knex', 'seed:run', '--env=production'],
      'NODE_ENV is production and the Knex environment is production (--env)',
      'unset NODE_ENV and drop --env production',
    ],
  ])('refuses %j with argv %j naming only what is set, and its fix', (env, argv, reason, fix) => {
    expect(() => assertSeedingAllowed(env, argv)).toThrow(
      `refusing to seed: ${reason}. Seeding replaces the seeded users, sessions and goals; ` +
        `run it against a development or scratch database that only seeds have filled (${fix})`,
    );
  });

  it.each([
    [{}, []],
    [{ NODE_ENV: 'development' }, ['node', 'knex', 'seed:run']],
    [{ NODE_ENV: 'test' }, ['node', 'knex', 'seed:run', '--env', 'test']],
  ])('allows %j with argv %j', (env, argv) => {
    expect(() => assertSeedingAllowed(env, argv)).not.toThrow();
  });

  it('reads the Knex environment from either spelling of --env', () => {
    expect(knexEnvironmentInArgv(['--env', 'staging'])).toBe('staging');
    expect(knexEnvironmentInArgv(['--env=staging'])).toBe('staging');
    expect(knexEnvironmentInArgv(['seed:run'])).toBeUndefined();
  });

  it('is a GoalBackfillError with a stable code and a one-line message', () => {
    const error = new SeedRefusedError('NODE_ENV is production');
    expect(error.code).toBe('SEED_REFUSED');
    expect(error.name).toBe('SeedRefusedError');
    expect(error.message).not.toContain('\n');
  });
});

import { describe, expect, it } from 'vitest';
import {
  assertSeedingAllowed,
  knexEnvironmentInArgv,
  SeedRefusedError,
} from '../../src/seed/reset';

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

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors';
import { silentLogger } from '../src/logging';
import {
  BACKFILL_ENV_VARIABLES,
  backfillEnvOptions,
  flagsOf,
  OPTION_SPECS,
  optionsTakenBy,
  readBackfillEnv,
  resolveBackfillOptions,
  workersFromEnv,
} from '../src/options';
import { PROJECT_ROOT } from './support/run-command';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    readBackfillEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('readBackfillEnv', () => {
  it('leaves unset variables undefined so the library defaults apply', () => {
    expect(readBackfillEnv({})).toEqual({
      batchSize: undefined,
      statementTimeoutMs: undefined,
      lockTimeoutMs: undefined,
      lockWaitMs: undefined,
      progressEvery: undefined,
      pauseMs: undefined,
      maxSessionsPerSecond: undefined,
      backoffMs: undefined,
      maxReplicationLagMs: undefined,
      workers: undefined,
      healthQuery: undefined,
      schema: undefined,
      logLevel: 'info',
      logFormat: 'text',
    });
  });

  it('reads every variable', () => {
    expect(
      readBackfillEnv({
        GOAL_BACKFILL_BATCH_SIZE: '500',
        GOAL_BACKFILL_STATEMENT_TIMEOUT_MS: '0',
        GOAL_BACKFILL_LOCK_TIMEOUT_MS: '250',
        GOAL_BACKFILL_LOCK_WAIT_MS: '1000',
        GOAL_BACKFILL_PROGRESS_EVERY: '10',
        GOAL_BACKFILL_PAUSE_MS: '200',
        GOAL_BACKFILL_MAX_SESSIONS_PER_SECOND: '5000',
        GOAL_BACKFILL_BACKOFF_MS: '0',
        GOAL_BACKFILL_MAX_REPLICATION_LAG_MS: ' 30000 ',
        GOAL_BACKFILL_WORKERS: '4',
        GOAL_BACKFILL_HEALTH_QUERY: 'SELECT delay_ms FROM ops.backfill_delay',
        GOAL_BACKFILL_LOG_LEVEL: 'debug',
        GOAL_BACKFILL_LOG_FORMAT: 'json',
      }),
    ).toEqual({
      batchSize: 500,
      statementTimeoutMs: 0,
      lockTimeoutMs: 250,
      lockWaitMs: 1000,
      progressEvery: 10,
      pauseMs: 200,
      maxSessionsPerSecond: 5000,
      backoffMs: 0,
      maxReplicationLagMs: 30000,
      workers: 4,
      healthQuery: 'SELECT delay_ms FROM ops.backfill_delay',
      logLevel: 'debug',
      logFormat: 'json',
    });
  });

  it('treats an empty numeric variable as unset', () => {
    expect(
      readBackfillEnv({ GOAL_BACKFILL_WORKERS: '', GOAL_BACKFILL_PAUSE_MS: ' ' }),
    ).toMatchObject({ workers: undefined, pauseMs: undefined });
  });

  it.each([
    ['GOAL_BACKFILL_BATCH_SIZE', '0', 'a whole number from 1 to 100000'],
    [
      'GOAL_BACKFILL_STATEMENT_TIMEOUT_MS',
      '999',
      '0 (none) or a whole number of milliseconds from 1000',
    ],
    ['GOAL_BACKFILL_LOCK_WAIT_MS', '86400001', 'a whole number of milliseconds from 0 to 86400000'],
    ['GOAL_BACKFILL_WORKERS', '0', 'a whole number from 1 to 16 (got "0")'],
    ['GOAL_BACKFILL_WORKERS', '17', 'a whole number from 1 to 16 (got "17")'],
    ['GOAL_BACKFILL_WORKERS', '2.5', 'a whole number from 1 to 16 (got "2.5")'],
    ['GOAL_BACKFILL_WORKERS', 'two', 'a whole number from 1 to 16 (got "two")'],
    ['GOAL_BACKFILL_PAUSE_MS', '-1', 'a whole number of milliseconds from 0 to 3600000 (got "-1")'],
    ['GOAL_BACKFILL_PAUSE_MS', '3600001', 'a whole number of milliseconds from 0 to 3600000'],
    ['GOAL_BACKFILL_MAX_SESSIONS_PER_SECOND', '1e3', 'a whole number from 0 to 9007199254740991'],
    ['GOAL_BACKFILL_BACKOFF_MS', '600001', 'a whole number of milliseconds from 0 to 600000'],
    [
      'GOAL_BACKFILL_MAX_REPLICATION_LAG_MS',
      '10s',
      'a whole number of milliseconds from 0 to 86400000 (got "10s")',
    ],
  ])('checks %s=%s against the same range as the flag', (name, value, range) => {
    expect(() => readBackfillEnv({ [name]: value })).toThrow(`${name} must be ${range}`);
  });

  it('reports every bad variable at once', () => {
    let error: unknown;
    try {
      readBackfillEnv({
        GOAL_BACKFILL_BATCH_SIZE: 'lots',
        GOAL_BACKFILL_LOG_LEVEL: 'loud',
        GOAL_BACKFILL_LOG_FORMAT: 'xml',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'GOAL_BACKFILL_BATCH_SIZE must be a whole number from 1 to 100000 (got "lots")',
      'GOAL_BACKFILL_LOG_LEVEL must be one of error, warn, info, debug (got "loud")',
      'GOAL_BACKFILL_LOG_FORMAT must be text or json (got "xml")',
    ]);
  });

  it.each(['', '   ', '\n\t'])(
    'refuses a blank GOAL_BACKFILL_HEALTH_QUERY (%j), naming it',
    (value) => {
      expect(problemsOf({ GOAL_BACKFILL_HEALTH_QUERY: value })).toEqual([
        'GOAL_BACKFILL_HEALTH_QUERY is blank: set it to SQL whose first value is milliseconds to wait, or unset it for none',
      ]);
    },
  );

  it('passes the health query as written', () => {
    const sql = '  SELECT 0 -- ops check\n';
    expect(readBackfillEnv({ GOAL_BACKFILL_HEALTH_QUERY: sql }).healthQuery).toBe(sql);
  });

  it('reports the new variables together with the others, in one line', () => {
    let error: unknown;
    try {
      readBackfillEnv({
        GOAL_BACKFILL_BATCH_SIZE: '0',
        GOAL_BACKFILL_WORKERS: '0',
        GOAL_BACKFILL_BACKOFF_MS: 'soon',
        GOAL_BACKFILL_HEALTH_QUERY: ' ',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(4);
    expect((error as ConfigError).message).not.toContain('\n');
    expect((error as ConfigError).message).toMatch(
      /^GOAL_BACKFILL_BATCH_SIZE must .*; GOAL_BACKFILL_BACKOFF_MS must .*; GOAL_BACKFILL_WORKERS must .*; GOAL_BACKFILL_HEALTH_QUERY is blank/,
    );
  });

  it('hands the backfill options on without the log settings', () => {
    const options = backfillEnvOptions(
      readBackfillEnv({ GOAL_BACKFILL_WORKERS: '3', GOAL_BACKFILL_LOG_LEVEL: 'debug' }),
    );
    expect(options).toMatchObject({ workers: 3, healthQuery: undefined });
    expect(options).not.toHaveProperty('logLevel');
    expect(options).not.toHaveProperty('logFormat');
  });
});

describe('GOAL_BACKFILL_SCHEMA', () => {
  it.each([
    [{}, undefined],
    [{ GOAL_BACKFILL_SCHEMA: '' }, undefined],
    [{ GOAL_BACKFILL_SCHEMA: '  ' }, undefined],
    [{ GOAL_BACKFILL_SCHEMA: 'app' }, 'app'],
    [{ GOAL_BACKFILL_SCHEMA: ' app ' }, 'app'],
    // Spelled as the catalog has it: case and spaces inside are kept, never folded.
    [{ GOAL_BACKFILL_SCHEMA: 'Tenant A' }, 'Tenant A'],
    [{ GOAL_BACKFILL_SCHEMA: 'é'.repeat(31) }, 'é'.repeat(31)],
  ])('%j -> %j', (env, schema) => {
    expect(readBackfillEnv(env).schema).toBe(schema);
    expect(backfillEnvOptions(readBackfillEnv(env)).schema).toBe(schema);
  });

  it.each([
    ['app,public', 'must name one schema, not a search_path (got "app,public")'],
    ['x'.repeat(64), 'must be a schema name of at most 63 bytes'],
    ['é'.repeat(32), 'must be a schema name of at most 63 bytes'],
  ])('%j is refused with the rest, in one line', (value, problem) => {
    const problems = problemsOf({ GOAL_BACKFILL_SCHEMA: value, GOAL_BACKFILL_BATCH_SIZE: '0' });
    expect(problems).toHaveLength(2);
    expect(problems[1]).toContain(`GOAL_BACKFILL_SCHEMA ${problem}`);
  });
});

describe('workersFromEnv', () => {
  it.each([
    [{}, 1],
    [{ GOAL_BACKFILL_WORKERS: '' }, 1],
    [{ GOAL_BACKFILL_WORKERS: '6' }, 6],
    // A bad value is left to readBackfillEnv, which reports it with every other problem.
    [{ GOAL_BACKFILL_WORKERS: 'many' }, 1],
    [{ GOAL_BACKFILL_WORKERS: '17' }, 1],
  ])('%j -> %i', (env, workers) => {
    expect(workersFromEnv(env)).toBe(workers);
  });
});

describe('BACKFILL_ENV_VARIABLES', () => {
  it('lists every variable readBackfillEnv reads', () => {
    expect(Object.keys(BACKFILL_ENV_VARIABLES).sort()).toEqual(
      [
        'GOAL_BACKFILL_BATCH_SIZE',
        'GOAL_BACKFILL_STATEMENT_TIMEOUT_MS',
        'GOAL_BACKFILL_LOCK_TIMEOUT_MS',
        'GOAL_BACKFILL_LOCK_WAIT_MS',
        'GOAL_BACKFILL_PROGRESS_EVERY',
        'GOAL_BACKFILL_PAUSE_MS',
        'GOAL_BACKFILL_MAX_SESSIONS_PER_SECOND',
        'GOAL_BACKFILL_BACKOFF_MS',
        'GOAL_BACKFILL_MAX_REPLICATION_LAG_MS',
        'GOAL_BACKFILL_WORKERS',
        'GOAL_BACKFILL_HEALTH_QUERY',
        'GOAL_BACKFILL_SCHEMA',
        'GOAL_BACKFILL_LOG_LEVEL',
        'GOAL_BACKFILL_LOG_FORMAT',
      ].sort(),
    );
    expect(BACKFILL_ENV_VARIABLES.GOAL_BACKFILL_WORKERS).toContain('default 1');
  });

  it('every one of them is documented in the migration guide', () => {
    const guide = readFileSync(path.join(PROJECT_ROOT, 'docs', 'migration-guide.md'), 'utf8');
    const missing = Object.keys(BACKFILL_ENV_VARIABLES).filter(
      (variable) => !guide.includes(`\`${variable}\``),
    );
    expect(missing).toEqual([]);
  });
});

describe('everything derived from OPTION_SPECS', () => {
  const knex = {} as Knex;

  it('resolveBackfillOptions applies the default of every option runBackfill takes', () => {
    const resolved = resolveBackfillOptions({ knex, logger: silentLogger });
    for (const name of optionsTakenBy('runBackfill')) {
      expect(resolved[name]).toBe(OPTION_SPECS[name].default);
    }
  });

  it('resolveBackfillOptions checks every option runBackfill takes against its range', () => {
    const tooBig = Object.fromEntries(
      optionsTakenBy('runBackfill').map((name) => [name, OPTION_SPECS[name].max + 1]),
    );
    let error: unknown;
    try {
      resolveBackfillOptions({ knex, logger: silentLogger, ...tooBig });
    } catch (err) {
      error = err;
    }
    expect((error as ConfigError).problems.map((problem) => problem.split(' ')[0])).toEqual(
      optionsTakenBy('runBackfill'),
    );
  });

  it("the variables are run's numeric flags, and the commands take the options of their functions", () => {
    const withVariable = (Object.keys(OPTION_SPECS) as (keyof typeof OPTION_SPECS)[]).filter(
      (name) => 'env' in OPTION_SPECS[name],
    );
    expect(flagsOf('run')).toEqual(withVariable);
    expect(flagsOf('rollback')).toEqual(['batchSize', 'lockWaitMs']);
    expect(flagsOf('status')).toEqual(['limit']);
    for (const name of flagsOf('rollback')) {
      expect(optionsTakenBy('rollbackBackfill')).toContain(name);
    }
    expect(optionsTakenBy('getBackfillStatus')).toEqual(['limit']);
  });
});

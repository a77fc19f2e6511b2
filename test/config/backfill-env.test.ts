import { describe, expect, it } from 'vitest';
import { readBackfillEnv } from '../../src/config/backfill-env';
import { ConfigError } from '../../src/errors/config-error';

describe('readBackfillEnv', () => {
  it('leaves unset variables undefined so the library defaults apply', () => {
    expect(readBackfillEnv({})).toEqual({
      batchSize: undefined,
      statementTimeoutMs: undefined,
      lockTimeoutMs: undefined,
      lockWaitMs: undefined,
      progressEvery: undefined,
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
        GOAL_BACKFILL_LOG_LEVEL: 'debug',
        GOAL_BACKFILL_LOG_FORMAT: 'json',
      }),
    ).toEqual({
      batchSize: 500,
      statementTimeoutMs: 0,
      lockTimeoutMs: 250,
      lockWaitMs: 1000,
      progressEvery: 10,
      logLevel: 'debug',
      logFormat: 'json',
    });
  });

  it.each([
    ['GOAL_BACKFILL_BATCH_SIZE', '0', 'a whole number from 1 to 100000'],
    [
      'GOAL_BACKFILL_STATEMENT_TIMEOUT_MS',
      '999',
      '0 (none) or a whole number of milliseconds from 1000',
    ],
    ['GOAL_BACKFILL_LOCK_WAIT_MS', '86400001', 'a whole number of milliseconds from 0 to 86400000'],
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
});

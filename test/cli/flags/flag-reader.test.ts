import { describe, expect, it } from 'vitest';
import { findFlagConflicts } from '../../../src/cli/flags/flag-conflicts';
import { FlagReader } from '../../../src/cli/flags/flag-reader';
import { parseRollbackFlags } from '../../../src/cli/flags/rollback-flags';
import { parseRunFlags } from '../../../src/cli/flags/run-flags';
import { parseStatusFlags } from '../../../src/cli/flags/status-flags';
import { UsageError } from '../../../src/cli/usage-error';

function problemOf(work: () => unknown): string {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('FlagReader', () => {
  it('reads whole numbers within their range', () => {
    const read = new FlagReader({ n: 5, absent: undefined }, 'run');
    expect(read.integer('n', { min: 1, max: 10 })).toBe(5);
    expect(read.integer('absent', { min: 1, max: 10 })).toBeUndefined();
    read.finish();
  });

  it.each([
    [0, '--n must be a whole number from 1 to 10 (got 0)'],
    [11, '--n must be a whole number from 1 to 10 (got 11)'],
    [2.5, '--n must be a whole number from 1 to 10 (got 2.5)'],
    [Number.NaN, '--n must be a whole number from 1 to 10 (got something not a number)'],
    [[1, 2], '--n was given 2 times: give it once'],
  ])('refuses %s', (value, message) => {
    const read = new FlagReader({ n: value }, 'run');
    read.integer('n', { min: 1, max: 10 });
    expect(problemOf(() => read.finish())).toBe(`${message}; see 'goal-backfill run --help'`);
  });

  it('turns seconds into whole milliseconds', () => {
    const read = new FlagReader({ wait: 1.5 }, 'run');
    expect(read.secondsAsMs('wait', { min: 0, max: 10 })).toBe(1500);
  });

  it('reports every problem at once, on one line', () => {
    const message = problemOf(() =>
      parseRunFlags({ 'batch-size': 0, 'lock-timeout': -1, 'dry-run': true, 'error-log': 'x' }),
    );
    expect(message).toBe(
      '--batch-size must be a whole number from 1 to 100000 (got 0); ' +
        '--lock-timeout must be a whole number from 0 to 2147483647 (got -1); ' +
        '--dry-run and --error-log cannot be used together: a dry run writes nothing, so no ' +
        "session can fail; drop one of them; see 'goal-backfill run --help'",
    );
    expect(message.includes('\n')).toBe(false);
  });
});

describe('the command flags', () => {
  it('apply the documented defaults', () => {
    expect(parseRunFlags({})).toEqual({
      dryRun: false,
      batchSize: 5000,
      progressEvery: 100_000,
      json: false,
      errorLog: null,
      fromStart: false,
      lockWaitMs: 0,
      statementTimeoutMs: 120_000,
      lockTimeoutMs: 5000,
      pauseMs: 0,
      maxSessionsPerSecond: 0,
    });
    expect(parseRollbackFlags({})).toEqual({
      dryRun: false,
      includeChanged: false,
      json: false,
      batchSize: 5000,
      lockWaitMs: 0,
    });
    expect(parseStatusFlags({})).toEqual({ json: false, limit: 10 });
  });

  it('refuse an empty error log path', () => {
    expect(problemOf(() => parseRunFlags({ 'error-log': ' ' }))).toContain(
      '--error-log needs a value',
    );
  });
});

describe('findFlagConflicts', () => {
  it('ignores flags left at false or absent', () => {
    expect(findFlagConflicts({ 'dry-run': false, 'error-log': 'x' })).toEqual([]);
    expect(findFlagConflicts({ 'dry-run': true })).toEqual([]);
    expect(findFlagConflicts({ 'dry-run': true, 'error-log': 'x' })).toHaveLength(1);
  });
});

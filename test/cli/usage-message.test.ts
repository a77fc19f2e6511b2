import { describe, expect, it } from 'vitest';
import { closest, describeUsageFailure } from '../../src/cli/usage-message';

const RUN_FLAGS = ['dry-run', 'from-start', 'batch-size', 'json', 'help', 'version'];

describe('describeUsageFailure', () => {
  it.each([
    [
      'Unknown argument: frm-start',
      ['--frm-start'],
      "unknown flag --frm-start (did you mean --from-start?); see 'goal-backfill --help'",
    ],
    [
      'Unknown arguments: batch-sise, batchSise',
      ['rollback', '--batch-sise', '3'],
      "unknown flag --batch-sise (did you mean --batch-size?); see 'goal-backfill rollback --help'",
    ],
    [
      'Unknown argument: rollbak',
      ['rollbak'],
      "unknown command 'rollbak' (did you mean 'rollback'?): the commands are run, rollback, status; see 'goal-backfill --help'",
    ],
    ['Unknown argument: zzz', ['--zzz=1'], "unknown flag --zzz; see 'goal-backfill --help'"],
    [
      'Not enough arguments following: batch-size',
      ['run', '--batch-size'],
      "--batch-size needs a value; see 'goal-backfill run --help'",
    ],
    [
      'Invalid values:\n  Argument: log-format, Given: "xml", Choices: "text", "json"',
      ['status', '--log-format', 'xml'],
      `--log-format must be one of text, json (got "xml"); see 'goal-backfill status --help'`,
    ],
  ])('rewrites %j as one line saying what to fix', (message, argv, expected) => {
    expect(describeUsageFailure(message, argv, RUN_FLAGS)).toBe(expected);
  });

  it('keeps any other message, on one line', () => {
    expect(describeUsageFailure('Something\n  odd', ['run'], RUN_FLAGS)).toBe(
      "Something odd; see 'goal-backfill run --help'",
    );
  });
});

describe('closest', () => {
  it('suggests only near misses', () => {
    expect(closest('stauts', ['run', 'rollback', 'status'])).toBe('status');
    expect(closest('deploy', ['run', 'rollback', 'status'])).toBeUndefined();
  });
});

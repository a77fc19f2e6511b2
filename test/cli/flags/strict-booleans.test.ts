import { describe, expect, it } from 'vitest';
import { findLooseBooleans, helpCommandFor } from '../../../src/cli/flags/strict-booleans';

describe('findLooseBooleans', () => {
  it.each([
    [['--dry-run'], []],
    [['--no-dry-run'], []],
    [['run', '--dry-run=true', '--json=false'], []],
    [['rollback', '--include-changed=true'], []],
    [['--batch-size=5'], []],
    [['--error-log=--dry-run=yes'], []],
    [['run', '--', '--dry-run=yes'], []],
    // A flag the command does not have is left to the unknown-flag check.
    [['status', '--dry-run=yes'], []],
  ])('accepts %j', (argv, problems) => {
    expect(findLooseBooleans(argv)).toEqual(problems);
  });

  it.each([
    [['--dry-run=1'], '--dry-run'],
    [['run', '--dry-run=yes'], '--dry-run'],
    [['rollback', '--dry-run=on'], '--dry-run'],
    [['--dry-run=TRUE'], '--dry-run'],
    [['--dry-run='], '--dry-run'],
    [['--dryRun=yes'], '--dry-run'],
    [['status', '--json=yes'], '--json'],
    [['--verbose=1'], '--verbose'],
    [['rollback', '--include-changed=y'], '--include-changed'],
    [['--from-start=no'], '--from-start'],
  ])('refuses %j', (argv, flag) => {
    const problems = findLooseBooleans(argv);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${flag} accepts only true or false after =`));
  });

  it('names each one', () => {
    expect(findLooseBooleans(['--dry-run=1', '--json=2'])).toHaveLength(2);
  });
});

describe('helpCommandFor', () => {
  it('points at the typed command, or the top-level help', () => {
    expect(helpCommandFor(['rollback', '--dry-run=1'])).toBe('goal-backfill rollback --help');
    expect(helpCommandFor(['--dry-run=1'])).toBe('goal-backfill --help');
  });
});

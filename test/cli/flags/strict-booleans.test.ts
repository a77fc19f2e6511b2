import { describe, expect, it } from 'vitest';
import type { Options } from 'yargs';
import { GLOBAL_OPTIONS, looseBooleans } from '../../../src/cli/cli-options';
import { ROLLBACK_OPTIONS } from '../../../src/cli/commands/rollback';
import { RUN_OPTIONS } from '../../../src/cli/commands/run';
import { STATUS_OPTIONS } from '../../../src/cli/commands/status';

const COMMANDS: Record<string, Record<string, Options>> = {
  run: RUN_OPTIONS,
  rollback: ROLLBACK_OPTIONS,
  status: STATUS_OPTIONS,
};

/** The loose booleans of `argv`, for the command it names (run when none), as main reads them. */
function findLooseBooleans(argv: readonly string[]): string[] {
  const command = argv.find((arg) => !arg.startsWith('-') && arg in COMMANDS) ?? 'run';
  return looseBooleans(argv, { ...GLOBAL_OPTIONS, ...COMMANDS[command] });
}

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

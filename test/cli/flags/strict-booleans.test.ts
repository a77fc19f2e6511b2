import { describe, expect, it } from 'vitest';
import { asksForJson, asPlainLine, linesOf, runCli } from '../cli-harness';

/** Nothing listens there: a command line that passed every check fails on the connection. */
const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };

/**
 * The stderr lines of a run of `argv`, each checked to be in the format `argv` asks for (a JSON
 * event under --log-format json), as the plain text format writes them.
 */
function plainLines(argv: readonly string[], stderr: string): string[] {
  const lines = linesOf(stderr);
  for (const line of lines) expect(line.startsWith('{')).toBe(asksForJson(argv));
  return lines.map(asPlainLine);
}

/** The one line a loose boolean gets, for the help of `command` (none: the top-level help). */
function looseLine(flag: string, value: string, command?: string): string {
  return (
    `goal-backfill: error: --${flag} accepts only true or false after = (got ${JSON.stringify(value)}): ` +
    `write --${flag} or --no-${flag}; see 'goal-backfill${command ? ` ${command}` : ''} --help'`
  );
}

describe('a boolean flag takes only true or false, wherever it stands', () => {
  /** Runs `argv` and expects the one line of a loose `--flag=value`. */
  async function expectLoose(argv: string[], flag: string, value: string): Promise<void> {
    const run = await runCli(argv, { env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const command = argv.find((arg) => ['run', 'rollback', 'status'].includes(arg));
    expect(plainLines(argv, run.stderr)).toEqual([looseLine(flag, value, command)]);
  }

  it.each([
    // The value of --log-format passed for the command word, so the flags of rollback went
    // unchecked: --include-changed=yes was read as false.
    [['--log-format', 'json', 'rollback', '--include-changed=yes'], 'include-changed', 'yes'],
    [['--log-format', 'text', 'rollback', '--include-changed=1'], 'include-changed', '1'],
    [['--log-format', 'json', 'rollback', '--dry-run=yes'], 'dry-run', 'yes'],
    [['--json=1', '--log-format', 'text', 'status'], 'json', '1'],
    [['--error-log', 'failed.jsonl', 'run', '--from-start=no'], 'from-start', 'no'],
  ])('%j: one line, exit 2, before any connection', expectLoose);

  // Carried over from the unit test of the hand-written pre-check this replaces, which refused
  // them too: now each is refused by the check of the command yargs chose.
  it.each([
    [['--log-format=json', 'rollback', '--dry-run=1'], 'dry-run', '1'],
    [['--verbose', 'rollback', '--dry-run=on'], 'dry-run', 'on'],
    [['--dry-run=yes', 'rollback'], 'dry-run', 'yes'],
    [['--verbose=1', 'status'], 'verbose', '1'],
    [['status', '--verbose=yes'], 'verbose', 'yes'],
    [['rollback', '--dry-run='], 'dry-run', ''],
    [['rollback', '--dry-run=TRUE'], 'dry-run', 'TRUE'],
    [['rollback', '--dryRun=yes'], 'dry-run', 'yes'],
  ])('%j: still one line, exit 2, before any connection', expectLoose);

  it('names every loose boolean of the command in the one line', async () => {
    const argv = ['--log-format', 'json', '--json=yes', 'rollback', '--include-changed=1'];
    const run = await runCli(argv, { env });
    expect(run.code).toBe(2);
    expect(plainLines(argv, run.stderr)).toEqual([
      `${looseLine('json', 'yes').replace(/; see .*$/, '')}; ${looseLine('include-changed', '1', 'rollback').replace(/^goal-backfill: error: /, '')}`,
    ]);
  });

  it.each([
    // Each accepted form, beside the same command line made wrong in the way it guards.
    [
      ['--log-format', 'json', 'rollback', '--include-changed=true'],
      ['--log-format', 'json', 'rollback', '--include-changed=yes'],
    ],
    [
      ['--log-format', 'json', 'rollback', '--include-changed=false'],
      ['--log-format', 'json', 'rollback', '--include-changed=no'],
    ],
    [
      ['rollback', '--dry-run'],
      ['rollback', '--dry-run', '--dry-run'],
    ],
    [
      ['rollback', '--no-dry-run'],
      ['rollback', '--no-dry-run', '--dry-run'],
    ],
    [
      ['rollback', '--dry-run=true'],
      ['--log-format', 'json', 'rollback', '--dry-run=true', '--include-changed=1'],
    ],
    [
      ['rollback', '--dry-run=false'],
      ['rollback', '--dry-run=false', '--dry-run=false'],
    ],
    [
      ['rollback', '--dry-run', 'false'],
      ['rollback', '--dry-run', 'false', '--dry-run'],
    ],
    [
      ['run', '--health-query=--dry-run=yes'],
      ['run', '--health-query=--dry-run=yes', '--from-start', '--from-start'],
    ],
  ])('%j goes on to the database; %j is refused', async (accepted, refused) => {
    const run = await runCli(accepted, { env });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('DATABASE_UNREACHABLE');
    const wrong = await runCli(refused, { env });
    expect(wrong.code).toBe(2);
    expect(plainLines(refused, wrong.stderr)).toEqual([
      expect.stringMatching(/^goal-backfill: error: --[a-z-]+ (accepts only|was given)/),
    ]);
  });
});

describe('a flag given twice', () => {
  it.each([
    [['rollback', '--dry-run', '--dry-run'], 'dry-run', 2],
    [['rollback', '--dry-run', '--no-dry-run'], 'dry-run', 2],
    [['rollback', '--no-dry-run', '--dry-run=true'], 'dry-run', 2],
    [['rollback', '--dry-run', '--dryRun'], 'dry-run', 2],
    [['--dry-run=true', 'rollback', '--dry-run', '--dry-run=false'], 'dry-run', 3],
    [['rollback', '--json=true', '--json'], 'json', 2],
    [['--verbose', 'status', '--verbose'], 'verbose', 2],
    [['run', '--from-start', '--from-start'], 'from-start', 2],
    [['rollback', '--include-changed', '--include-changed=false'], 'include-changed', 2],
    [['--log-format', 'text', 'status', '--log-format', 'json'], 'log-format', 2],
  ])('%j: one line, exit 2, before any connection', async (argv, flag, times) => {
    const run = await runCli(argv, { env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const command = argv.find((arg) => ['run', 'rollback', 'status'].includes(arg));
    expect(plainLines(argv, run.stderr)).toEqual([
      `goal-backfill: error: --${flag} was given ${times} times: give it once; see 'goal-backfill ${command} --help'`,
    ]);
  });
});

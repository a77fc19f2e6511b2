import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { linesOf, runCli } from './cli-harness';

const PACKAGE_VERSION = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'),
).version as string;

/** No database is reachable here: a command that got past parsing would fail differently. */
const env = { DATABASE_URL: 'postgres://postgres:never-used@127.0.0.1:1/none' };

describe('goal-backfill --version and --help', () => {
  it('prints the package version', async () => {
    const run = await runCli(['--version'], { env });
    expect(run).toEqual({ code: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: '' });
  });

  it('lists the commands, with run as the default', async () => {
    const run = await runCli(['--help'], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')[0]).toBe('Usage: goal-backfill <command> [options]');
    expect(run.stdout).toMatch(/Global options:\n +--verbose/);
    expect(run.stdout).not.toContain('--batch-size');
    expect(run.stdout).toMatch(/goal-backfill run +Backfill .*\(the default command\)/);
    expect(run.stdout).toMatch(/goal-backfill rollback +Delete/);
    expect(run.stdout).toMatch(/goal-backfill status +Show/);
    expect(run.stdout).toContain('Exit codes: 0 done');
  });

  it.each([
    [
      'run',
      [
        '--dry-run',
        '--verbose',
        '--batch-size',
        '--progress-every',
        '--json',
        '--error-log',
        '--log-format',
        '--from-start',
        '--lock-wait-ms',
        '--statement-timeout-ms',
        '--lock-timeout-ms',
        '--pause-ms',
        '--max-sessions-per-second',
      ],
    ],
    ['rollback', ['--dry-run', '--include-changed', '--json', '--batch-size', '--lock-wait-ms']],
    ['status', ['--json', '--limit']],
  ])('documents every flag of %s', async (command, flags) => {
    const run = await runCli([command, '--help'], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')[0]).toBe(`Usage: goal-backfill ${command} [options]`);
    expect(run.stdout).toContain('Global options:');
    expect(run.stdout).toContain('Examples:');
    expect(run.stdout).toContain('DATABASE_URL');
    expect(run.stdout).toContain('Exit codes: 0 done');
    for (const flag of flags) expect(run.stdout).toContain(`${flag} `);
  });

  it('prints the help once for `help`, as for --help, and `help <command>` as `<command> --help`', async () => {
    const top = await runCli(['--help'], { env });
    const word = await runCli(['help'], { env });
    expect(word).toEqual(top);
    for (const heading of ['Usage: ', 'Commands:', 'Examples:', 'Exit codes: ']) {
      expect(word.stdout.split(heading), heading).toHaveLength(2);
    }
    expect(await runCli(['help', 'rollback'], { env })).toEqual(
      await runCli(['rollback', '--help'], { env }),
    );
  });

  it.each([[[]], [['run']], [['rollback']], [['status']]])(
    'lays out %j --help in 100 columns, a space before every type column',
    async (command) => {
      const run = await runCli([...command, '--help'], { env });
      const lines = run.stdout.split('\n');
      expect(lines.filter((line) => line.length > 100)).toEqual([]);
      expect(
        lines.filter((line) => /\S\[(string|boolean|number|default|choices)/.test(line)),
      ).toEqual([]);
    },
  );

  it('describes --batch-size as each command reads it', async () => {
    const run = await runCli(['run', '--help'], { env });
    const rollback = await runCli(['rollback', '--help'], { env });
    expect(run.stdout).toMatch(/--batch-size +<n> {2}Sessions per page;/);
    expect(rollback.stdout).toMatch(/--batch-size +<n> {2}Goals deleted per statement \[/);
    expect(`${run.stdout}${rollback.stdout}`).not.toContain('for rollback');
  });

  it('shows the defaults in the help', async () => {
    const run = await runCli(['run', '--help'], { env });
    expect(run.stdout).toMatch(/--batch-size .*\n?.*\[default: 5000\]/);
    expect(run.stdout).toMatch(/--progress-every[\s\S]*?\[default: 100000\]/);
    expect(run.stdout).toMatch(/--statement-timeout-ms +<ms> [\s\S]*?\[default: 120000\]/);
  });
});

describe('a command line that cannot be used', () => {
  it.each([
    [['--frm-start'], 'unknown flags or commands: frm-start'],
    [['rollbak'], 'unknown command rollbak: did you mean rollback?'],
    [['rn'], 'unknown command rn: did you mean run?'],
    [['statu', '--json'], 'unknown command statu: did you mean status?'],
    [['deploy'], 'unknown command deploy'],
    [['deploy', '--dry-run'], 'unknown command deploy'],
    [['postgres://u:typed-secret@h/d'], 'unknown command (not shown)'],
    [['status', '--dry-run'], 'unknown flags or commands: dry-run'],
    [['rollback', '--from-start'], 'unknown flags or commands: from-start'],
    [['--lock-wait', '5'], 'unknown flags or commands: lock-wait'],
    [['--batch-size', 'abc'], '--batch-size must be a whole number from 1 to 100000'],
    [['--batch-size', '0'], '--batch-size must be a whole number from 1 to 100000 (got "0")'],
    [['--batch-size', '100001'], '(got "100001")'],
    [['--batch-size'], '--batch-size needs a value'],
    [['--batch-size', '5', '--batch-size', '6'], '--batch-size was given 2 times: give it once'],
    [['--progress-every', '-5'], '--progress-every must be a whole number from 0'],
    [
      ['--lock-wait-ms', '-1'],
      '--lock-wait-ms must be a whole number of milliseconds from 0 to 86400000 (got "-1")',
    ],
    [['--lock-wait-ms', '1.5'], '--lock-wait-ms must be a whole number of milliseconds'],
    [
      ['--statement-timeout-ms', 'soon'],
      '--statement-timeout-ms must be 0 (none) or a whole number',
    ],
    [
      ['--statement-timeout-ms', '1'],
      '--statement-timeout-ms must be 0 (none) or a whole number of milliseconds from 1000 to 2147483647 (got "1")',
    ],
    [['--statement-timeout-ms', '999'], '(got "999")'],
    [['--statement-timeout-ms', '-1'], '(got "-1")'],
    [
      ['--lock-timeout-ms', '1.5'],
      '--lock-timeout-ms must be a whole number of milliseconds from 0 to 2147483647',
    ],
    [
      ['--pause-ms', '3600001'],
      '--pause-ms must be a whole number of milliseconds from 0 to 3600000',
    ],
    [['--max-sessions-per-second', '-1'], '--max-sessions-per-second must be a whole number'],
    [['--log-format', 'xml'], '--log-format got "xml"; it must be one of "text", "json"'],
    [['--error-log', ''], '--error-log needs a value'],
    [['--dry-run', '--error-log', 'f.jsonl'], '--dry-run and --error-log cannot be used together'],
    [['rollback', '--batch-size', '2.5'], '--batch-size must be a whole number from 1 to 100000'],
    [['status', '--limit', '0'], '--limit must be a whole number from 1 to 1000 (got "0")'],
  ])('%j exits 2 with one line saying what to fix', async (argv, fix) => {
    const run = await runCli(argv, { env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = linesOf(run.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^goal-backfill: error: /);
    expect(lines[0]).toContain(fix);
    expect(lines[0]).toMatch(/see 'goal-backfill( \w+)? --help'$/);
    expect(run.stderr).not.toContain('Options:');
    expect(run.stderr).not.toContain('typed-secret');
  });

  it('names every bad flag in the same line', async () => {
    const run = await runCli(['--batch-size', '0', '--lock-timeout-ms', '-1'], { env });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('--batch-size must be');
    expect(run.stderr).toContain('--lock-timeout-ms must be');
  });

  it('reads flags in --name=value form too', async () => {
    const run = await runCli(['status', '--limit=abc'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--limit must be a whole number');
  });
});

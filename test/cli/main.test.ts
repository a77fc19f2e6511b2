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
    expect(run.stdout).toMatch(/goal-backfill run +Backfill .*\[default\]/);
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
        '--lock-wait',
        '--statement-timeout',
        '--lock-timeout',
        '--pause-ms',
        '--max-sessions-per-second',
      ],
    ],
    ['rollback', ['--dry-run', '--include-changed', '--json', '--batch-size', '--lock-wait']],
    ['status', ['--json', '--limit']],
  ])('documents every flag of %s', async (command, flags) => {
    const run = await runCli([command, '--help'], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')[0]).toBe(`goal-backfill ${command}`);
    for (const flag of flags) expect(run.stdout).toContain(`${flag} `);
  });

  it('shows the defaults in the help', async () => {
    const run = await runCli(['run', '--help'], { env });
    expect(run.stdout).toMatch(/--batch-size .*\n?.*\[default: 5000\]/);
    expect(run.stdout).toMatch(/--progress-every[\s\S]*?\[default: 100000\]/);
    expect(run.stdout).toMatch(/--statement-timeout[\s\S]*?\[default: 120000\]/);
  });
});

describe('a command line that cannot be used', () => {
  it.each([
    [['--frm-start'], 'unknown flag --frm-start (did you mean --from-start?)'],
    [['rollbak'], "unknown command 'rollbak' (did you mean 'rollback'?)"],
    [['deploy'], "unknown command 'deploy': the commands are run, rollback, status"],
    [['status', '--dry-run'], 'unknown flag --dry-run'],
    [['rollback', '--from-start'], 'unknown flag --from-start'],
    [['--batch-size', 'abc'], '--batch-size must be a whole number from 1 to 100000'],
    [['--batch-size', '0'], '--batch-size must be a whole number from 1 to 100000 (got 0)'],
    [['--batch-size', '100001'], '(got 100001)'],
    [['--batch-size'], '--batch-size needs a value'],
    [['--batch-size', '5', '--batch-size', '6'], '--batch-size was given 2 times: give it once'],
    [['--progress-every', '-5'], '--progress-every must be a whole number from 0'],
    [['--lock-wait', '-1'], '--lock-wait must be a number of seconds from 0 to 86400 (got -1)'],
    [['--statement-timeout', 'soon'], '--statement-timeout must be 0 (none) or a whole number'],
    [
      ['--statement-timeout', '1'],
      '--statement-timeout must be 0 (none) or a whole number of milliseconds from 1000 to 2147483647 (got 1)',
    ],
    [['--statement-timeout', '999'], '(got 999)'],
    [['--statement-timeout', '-1'], '(got -1)'],
    [['--lock-timeout', '1.5'], '--lock-timeout must be a whole number from 0 to 2147483647'],
    [['--pause-ms', '3600001'], '--pause-ms must be a whole number from 0 to 3600000'],
    [['--max-sessions-per-second', '-1'], '--max-sessions-per-second must be a whole number'],
    [['--log-format', 'xml'], '--log-format must be one of text, json (got "xml")'],
    [['--error-log', ''], '--error-log needs a value'],
    [['--dry-run', '--error-log', 'f.jsonl'], '--dry-run and --error-log cannot be used together'],
    [['rollback', '--batch-size', '2.5'], '--batch-size must be a whole number from 1 to 100000'],
    [['status', '--limit', '0'], '--limit must be a whole number from 1 to 1000 (got 0)'],
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
  });

  it('names every bad flag in the same line', async () => {
    const run = await runCli(['--batch-size', '0', '--lock-timeout', '-1'], { env });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('--batch-size must be');
    expect(run.stderr).toContain('--lock-timeout must be');
  });

  it('reads flags in --name=value form too', async () => {
    const run = await runCli(['status', '--limit=abc'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--limit must be a whole number');
  });
});

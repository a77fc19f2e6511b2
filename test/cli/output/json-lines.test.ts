import { describe, expect, it } from 'vitest';
import { countOf } from '../../seed/seeded-data';
import { type TestDatabase, useMigratedDatabase } from '../../support/test-database';
import { startBin } from '../bin-process';
import { seedKnownSessions } from '../cli-fixtures';
import { linesOf, runCli, withoutServer } from '../cli-harness';

/**
 * With `--log-format json` or GOAL_BACKFILL_LOG_FORMAT=json, every line the CLI writes to
 * stderr is one JSON object (`level`, `message` as the event, `timestamp`, the event's fields),
 * the fatal error line included, wherever the error is found: in yargs' parse, in the flags'
 * check, in the database. With `--json`, stdout is one JSON object too.
 */

/** Every line of `text` parsed, failing the test on any line that is not a JSON object. */
function events(text: string): Record<string, unknown>[] {
  return linesOf(text).map((line) => {
    const parsed: unknown = JSON.parse(line);
    expect(parsed).toEqual(
      expect.objectContaining({
        level: expect.stringMatching(/^(error|warn|info|debug)$/),
        message: expect.any(String),
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      }),
    );
    return parsed as Record<string, unknown>;
  });
}

describe.skipIf(withoutServer)('the json log format', () => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url });

  useMigratedDatabase((created) => {
    db = created;
  });

  it.each([
    ['the flag', ['--log-format', 'json'], {}],
    ['the variable', [], { GOAL_BACKFILL_LOG_FORMAT: 'json' }],
  ])(
    'run, status and rollback through %s: every line of stderr and stdout is JSON',
    async (_how, flags, variables) => {
      await seedKnownSessions(db.knex);
      const options = { env: { ...env(), ...variables } };

      const run = await runCli(['run', '--json', '--verbose', ...flags], options);
      expect(run.code, run.stderr).toBe(0);
      const logged = events(run.stderr).map((event) => event.message);
      expect(logged).toEqual(
        expect.arrayContaining(['backfill.start', 'backfill.page', 'backfill.finish']),
      );
      expect(linesOf(run.stdout)).toHaveLength(1);
      const summary = JSON.parse(run.stdout) as { goalsCreated: number };
      expect(summary.goalsCreated).toBe(
        await countOf(
          db.knex,
          "SELECT count(*) AS n FROM treatment_goals WHERE origin = 'backfill'",
        ),
      );

      const status = await runCli(['status', '--json', ...flags], options);
      expect(status.code).toBe(0);
      events(status.stderr);
      expect(() => JSON.parse(status.stdout)).not.toThrow();

      const rollback = await runCli(['rollback', '--json', '--include-changed', ...flags], options);
      expect(rollback.code).toBe(0);
      expect(events(rollback.stderr).map((event) => event.message)).toEqual(
        expect.arrayContaining(['cli.warning', 'rollback.finish']),
      );
      expect(await countOf(db.knex, 'SELECT count(*) AS n FROM treatment_goals')).toBe(0);
    },
  );

  it.each([
    ['a flag yargs refuses', ['status', '--log-format', 'json', '--bogus'], {}, 2, null],
    [
      'a value the check refuses',
      ['run', '--batch-size', '0'],
      { GOAL_BACKFILL_LOG_FORMAT: 'json' },
      2,
      null,
    ],
    [
      'a schema that does not exist',
      ['status', '--log-format=json', '--schema', 'nope'],
      {},
      2,
      'CONFIG_INVALID',
    ],
    [
      'a database that is not there',
      ['run', '--log-format', 'json'],
      { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
      2,
      'DATABASE_UNREACHABLE',
    ],
  ])(
    'a fatal error from %s is one JSON line, at error level',
    async (_case, argv, variables, code, errorCode) => {
      const run = await runCli(argv, { env: { ...env(), ...variables } });

      expect(run.code).toBe(code);
      expect(run.stdout).toBe('');
      expect(events(run.stderr)).toEqual([
        expect.objectContaining({
          level: 'error',
          message: 'cli.error',
          code: errorCode,
          notice: expect.any(String),
        }),
      ]);
    },
  );

  it('writes the fatal error as JSON from the real process too, and exits 2', async () => {
    const { done } = startBin(['status', '--schema', 'nope'], {
      ...env(),
      GOAL_BACKFILL_LOG_FORMAT: 'json',
    });
    const finished = await done;

    expect(finished.code).toBe(2);
    expect(finished.stdout).toBe('');
    expect(events(finished.stderr)).toEqual([
      expect.objectContaining({
        message: 'cli.error',
        code: 'CONFIG_INVALID',
        notice: expect.stringContaining('schema "nope" does not exist'),
      }),
    ]);
  });

  it('refuses a GOAL_BACKFILL_LOG_FORMAT it cannot write, in one plain line', async () => {
    const run = await runCli(['status'], { env: { ...env(), GOAL_BACKFILL_LOG_FORMAT: 'yaml' } });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([
      expect.stringMatching(
        /^goal-backfill: error: GOAL_BACKFILL_LOG_FORMAT must be text or json \(got "yaml"\); see/,
      ),
    ]);
  });
});

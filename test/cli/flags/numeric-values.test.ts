import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors';
import {
  OPTION_SPECS,
  type OptionName,
  type OptionSpec,
  readBackfillEnv,
} from '../../../src/options';
import { tableCounts } from '../../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../../support/test-database';
import { seedKnownSessions } from '../cli-fixtures';
import { linesOf, runCli, withoutServer } from '../cli-harness';

/** Nothing listens there: a command line that passed every check fails on the connection. */
const unreachable = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };

/** Each command's numeric flags, by the option spec's names. */
const NUMERIC: ReadonlyArray<[string, OptionName]> = [
  ...(
    [
      'batchSize',
      'progressEvery',
      'lockWaitMs',
      'statementTimeoutMs',
      'lockTimeoutMs',
      'pauseMs',
      'maxSessionsPerSecond',
      'backoffMs',
      'maxReplicationLagMs',
      'workers',
    ] as const
  ).map((name): [string, OptionName] => ['run', name]),
  ['rollback', 'batchSize'],
  ['rollback', 'lockWaitMs'],
  ['status', 'limit'],
];

/** Text that `Number` reads as a number, and the option spec's parser does not. */
const NOT_DECIMAL = ['0x10', '1e3', '+5', '-0', '5.0', '1_000', ' 5', '5 ', '٥', 'Infinity'];

/** What the environment reader says of `variable` set to `text`. */
function variableProblem(variable: string, text: string): string {
  try {
    readBackfillEnv({ [variable]: text });
  } catch (err) {
    if (err instanceof ConfigError && err.problems[0]) return err.problems[0];
    throw err;
  }
  throw new Error(`${variable}=${JSON.stringify(text)} was accepted`);
}

describe('a numeric flag takes decimal digits only', () => {
  const cases = NUMERIC.flatMap(([command, name]) =>
    ['', ...NOT_DECIMAL].map((text): [string, string, OptionName, string] => [
      command,
      OPTION_SPECS[name].flag,
      name,
      text,
    ]),
  );

  it.each(cases)(
    '%s --%s=%j: one line naming the flag and what it takes, exit 2',
    async (command, flag, name, text) => {
      const run = await runCli([command, `--${flag}=${text}`], { env: unreachable });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      const [line, ...more] = linesOf(run.stderr);
      expect(more).toEqual([]);
      expect(line).toMatch(
        new RegExp(
          `^goal-backfill: error: --${flag} must be (0 \\(none\\) or )?a whole number( of milliseconds)? from \\d+ to \\d+ \\(got ${JSON.stringify(text).replace(/[+.]/g, '\\$&')}\\); see 'goal-backfill ${command} --help'$`,
        ),
      );
      // The same words as the variable gets, where the environment has one and refuses the text
      // too (it drops spaces around a value, and takes an empty one as unset).
      const variable = (OPTION_SPECS[name] as OptionSpec).env;
      if (variable !== undefined && text.trim() === text && text !== '') {
        const problem = variableProblem(variable, text).replace(variable, '');
        expect(line).toBe(
          `goal-backfill: error: --${flag}${problem}; see 'goal-backfill ${command} --help'`,
        );
      }
    },
  );

  it.each([
    [['run', '--lock-timeout-ms', '0x10']],
    [['run', '--backoff-ms', '1e3']],
    [['rollback', '--batch-size', '+5']],
    [['status', '--limit', '5.0']],
  ])('%j, the value after a space, is refused the same way', async (argv) => {
    const run = await runCli(argv, { env: unreachable });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([
      expect.stringMatching(/ must be .*\(got "[^"]+"\); see /),
    ]);
  });

  it('names every bad numeric flag in the one line', async () => {
    const run = await runCli(
      ['run', '--lock-timeout-ms=', '--backoff-ms=0x10', '--pause-ms', '1e3'],
      {
        env: unreachable,
      },
    );
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([
      'goal-backfill: error: --lock-timeout-ms must be a whole number of milliseconds from 0 to 2147483647 (got ""); --pause-ms must be a whole number of milliseconds from 0 to 3600000 (got "1e3"); --backoff-ms must be a whole number of milliseconds from 0 to 600000 (got "0x10"); see \'goal-backfill run --help\'',
    ]);
  });

  it('refuses --no-<numeric flag>, which yargs reads as false', async () => {
    const run = await runCli(['rollback', '--no-lock-wait-ms'], { env: unreachable });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([
      "goal-backfill: error: --no-lock-wait-ms is not a flag: give --lock-wait-ms with a number, or leave it out; see 'goal-backfill rollback --help'",
    ]);
  });

  it.each([
    [
      ['run', '--lock-timeout-ms=0'],
      ['run', '--lock-timeout-ms='],
    ],
    [
      ['run', '--lock-timeout-ms', '007'],
      ['run', '--lock-timeout-ms', '0x7'],
    ],
    [
      ['run', '--statement-timeout-ms=0', '--max-sessions-per-second=9007199254740991'],
      ['run', '--statement-timeout-ms=0', '--max-sessions-per-second=9e15'],
    ],
    [
      ['rollback', '--batch-size=100000'],
      ['rollback', '--batch-size=1e5'],
    ],
    [
      ['status', '--limit', '1000'],
      ['status', '--limit', '1000.0'],
    ],
  ])('%j goes on to the database; %j is refused', async (accepted, refused) => {
    const run = await runCli(accepted, { env: unreachable });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('DATABASE_UNREACHABLE');
    const wrong = await runCli(refused, { env: unreachable });
    expect(wrong.code).toBe(2);
    expect(linesOf(wrong.stderr)).toEqual([
      expect.stringMatching(/ must be .*\(got "[^"]*"\); see /),
    ]);
  });
});

describe.skipIf(withoutServer)('an empty or non-decimal numeric flag on a database', () => {
  let db: TestDatabase;
  useMigratedDatabase((created) => {
    db = created;
  });

  it.each([
    ['--lock-timeout-ms=', '--lock-timeout-ms=250'],
    ['--statement-timeout-ms=', '--statement-timeout-ms=60000'],
    ['--backoff-ms=', '--backoff-ms=0'],
    ['--lock-timeout-ms=0x10', '--lock-timeout-ms=16'],
    ['--batch-size=1e3', '--batch-size=1000'],
  ])('run %s reads and writes nothing; run %s backfills', async (bad, good) => {
    await seedKnownSessions(db.knex);
    const before = await tableCounts(db.knex);
    const refused = await runCli(['run', bad], { env: { DATABASE_URL: db.url } });
    expect(refused.code).toBe(2);
    expect(await tableCounts(db.knex)).toEqual(before);
    expect(before).toMatchObject({ treatment_goals: 0, goal_backfill_runs: 0 });
    const run = await runCli(['run', good, '--json'], { env: { DATABASE_URL: db.url } });
    expect(run.code).toBe(0);
    expect(await tableCounts(db.knex)).toMatchObject({ treatment_goals: 3, goal_backfill_runs: 1 });
  });
});

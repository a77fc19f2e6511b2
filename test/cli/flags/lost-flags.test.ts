import { beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../support/run-command';
import { type TestDatabase, useMigratedDatabase } from '../../support/test-database';
import { startBin } from '../bin-process';
import { seedKnownSessions } from '../cli-fixtures';
import { linesOf, runCli, withoutServer } from '../cli-harness';

/** Nothing listens there: a command line that passed every check fails on the connection. */
const unreachable = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };

/** What npm leaves in the environment for `npm run backfill rollback --dry-run` (npm 10, 11). */
const NPM_TOOK_DRY_RUN = { npm_config_dry_run: 'true' };

const TOOK_DRY_RUN =
  'goal-backfill: error: npm took --dry-run for itself (npm_config_dry_run is set), so ' +
  'goal-backfill did not get it and did nothing: put -- before the command, as in npm run ' +
  'backfill -- rollback --dry-run (the same fix holds when an .npmrc or the environment sets ' +
  "it); see 'goal-backfill rollback --help'";

const AFTER_DOUBLE_DASH =
  'goal-backfill: error: arguments after -- are not read, so nothing was done (got --dry-run): ' +
  'give them before the -- (through npm, write one --: npm run backfill -- <command> <flags>); ' +
  "see 'goal-backfill rollback --help'";

describe('flags npm took for itself', () => {
  it.each([
    [['rollback'], NPM_TOOK_DRY_RUN, TOOK_DRY_RUN],
    [
      ['run'],
      { npm_config_dry_run: 'true', npm_config_json: 'true' },
      'goal-backfill: error: npm took --dry-run and --json for itself (npm_config_dry_run and ' +
        'npm_config_json are set), so goal-backfill did not get them and did nothing: put -- ' +
        'before the command, as in npm run backfill -- run --dry-run --json (the same fix holds ' +
        "when an .npmrc or the environment sets them); see 'goal-backfill run --help'",
    ],
    [
      [],
      { npm_config_dryrun: 'true' },
      'goal-backfill: error: npm took --dry-run for itself (npm_config_dryrun is set), so ' +
        'goal-backfill did not get it and did nothing: put -- before the command, as in npm run ' +
        'backfill -- run --dry-run (the same fix holds when an .npmrc or the environment sets ' +
        "it); see 'goal-backfill --help'",
    ],
    [
      ['run'],
      { npm_config_lock_timeout_ms: '100' },
      'goal-backfill: error: npm took --lock-timeout-ms for itself (npm_config_lock_timeout_ms ' +
        'is set), so goal-backfill did not get it and did nothing: put -- before the command, as ' +
        'in npm run backfill -- run --lock-timeout-ms … (the same fix holds when an .npmrc or ' +
        "the environment sets it); see 'goal-backfill run --help'",
    ],
    [
      ['rollback'],
      { npm_config_include_changed: 'true' },
      expect.stringContaining('npm took --include-changed for itself'),
    ],
    [['rollback'], { npm_config_json: '1' }, expect.stringContaining('npm took --json for itself')],
    [
      ['status'],
      { npm_config_json: 'true' },
      expect.stringContaining('npm took --json for itself'),
    ],
    [
      ['status'],
      { npm_config_log_format: 'json' },
      expect.stringContaining('npm took --log-format for itself'),
    ],
  ])('%j with %j: one line, exit 2, before any connection', async (argv, npm, line) => {
    const run = await runCli(argv, { env: { ...unreachable, ...npm } });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(linesOf(run.stderr)).toEqual([line]);
  });

  it.each([
    // The command line gave the flag itself: that is what the operator said, .npmrc or not.
    [['rollback', '--dry-run'], ['rollback'], NPM_TOOK_DRY_RUN],
    [['rollback', '--no-json'], ['rollback'], { npm_config_json: 'true' }],
    [['run', '--json=false'], ['run'], { npm_config_json: 'true' }],
  ])('%j goes on to the database; %j is refused, with %j', async (accepted, refused, npm) => {
    const run = await runCli(accepted, { env: { ...unreachable, ...npm } });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('DATABASE_UNREACHABLE');
    const wrong = await runCli(refused, { env: { ...unreachable, ...npm } });
    expect(wrong.code).toBe(2);
    expect(linesOf(wrong.stderr)).toEqual([expect.stringMatching(/: npm took --/)]);
  });

  it.each([
    // What npm leaves for a boolean it was not given, or given as false: nothing was lost.
    [['rollback'], { npm_config_dry_run: '' }],
    [['rollback'], { npm_config_dry_run: 'false' }],
    [['rollback'], { npm_config_include_changed: 'false' }],
    // npm's own settings that no command shares, and a flag status does not have.
    [['rollback'], { npm_config_yes: 'true', npm_config_loglevel: 'silent' }],
    [['status'], NPM_TOOK_DRY_RUN],
  ])('%j with %j beside npm_config_json=true names --json alone', async (argv, npm) => {
    const run = await runCli(argv, { env: { ...unreachable, ...npm, npm_config_json: 'true' } });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([
      expect.stringMatching(
        /^goal-backfill: error: npm took --json for itself \(npm_config_json is set\)/,
      ),
    ]);
  });

  it('prints the help all the same', async () => {
    const npm = { ...unreachable, ...NPM_TOOK_DRY_RUN };
    const help = await runCli(['rollback', '--help'], { env: npm });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: goal-backfill rollback [options]');
    expect((await runCli(['rollback'], { env: npm })).stderr).toContain('npm took --dry-run');
  });
});

describe('arguments after --', () => {
  it.each([
    [['rollback', '--', '--dry-run'], AFTER_DOUBLE_DASH],
    [
      ['run', '--', '--dry-run', '--health-query=SELECT 1', 'x'],
      expect.stringContaining('(got --dry-run --health-query=… x)'),
    ],
    [
      ['--', 'rollback'],
      expect.stringMatching(
        /^goal-backfill: error: arguments after -- are not read, so nothing was done \(got rollback\): .*; see 'goal-backfill --help'$/,
      ),
    ],
  ])('%j: one line, exit 2, before any connection', async (argv, line) => {
    const run = await runCli(argv, { env: unreachable });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(linesOf(run.stderr)).toEqual([line]);
  });

  it('takes a -- with nothing after it', async () => {
    const run = await runCli(['rollback', '--dry-run', '--'], { env: unreachable });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DATABASE_UNREACHABLE');
    const after = await runCli(['rollback', '--', '--dry-run'], { env: unreachable });
    expect(linesOf(after.stderr)).toEqual([AFTER_DOUBLE_DASH]);
  });
});

describe.skipIf(withoutServer)(
  'flags the CLI never got, on a database with backfilled goals',
  () => {
    let db: TestDatabase;
    const env = () => ({ DATABASE_URL: db.url });

    useMigratedDatabase((created) => {
      db = created;
    });

    /** The goals and run records, read straight from the database. */
    async function snapshot() {
      const { rows } = await db.knex.raw<{ rows: { goals: string; runs: string }[] }>(
        'SELECT (SELECT count(*) FROM treatment_goals) AS goals, (SELECT count(*) FROM goal_backfill_runs) AS runs',
      );
      return rows[0];
    }

    /** Three backfilled goals a rollback would delete, and five new sessions a run would read. */
    beforeEach(async () => {
      await seedKnownSessions(db.knex);
      expect((await runCli(['run'], { env: env() })).code).toBe(0);
      await seedKnownSessions(db.knex);
      expect(await snapshot()).toEqual({ goals: '3', runs: '1' });
    });

    it.each([
      [['rollback'], NPM_TOOK_DRY_RUN, TOOK_DRY_RUN],
      [['rollback'], { npm_config_json: 'true' }, expect.stringContaining('npm took --json for')],
      [['run'], NPM_TOOK_DRY_RUN, expect.stringContaining('npm took --dry-run for itself')],
      [['rollback', '--', '--dry-run'], {}, AFTER_DOUBLE_DASH],
      [['run', '--', '--dry-run'], {}, expect.stringContaining('arguments after -- are not read')],
    ])(
      'the executable with %j and %j: exit 2, one line, nothing deleted or written',
      async (args, npm, line) => {
        const run = await startBin(args, { ...env(), ...npm }).done;
        expect({ code: run.code, stdout: run.stdout, stderr: linesOf(run.stderr) }).toEqual({
          code: 2,
          stdout: '',
          stderr: [line],
        });
        expect(await snapshot()).toEqual({ goals: '3', runs: '1' });
      },
    );

    it('npm run backfill rollback --dry-run: exit 2, nothing deleted; with -- a dry run', async () => {
      const swallowed = await runCommand(
        'npm',
        ['run', '--silent', 'backfill', 'rollback', '--dry-run'],
        env(),
      );
      expect(swallowed.code).toBe(2);
      expect(linesOf(swallowed.stderr)).toEqual([TOOK_DRY_RUN]);
      expect(await snapshot()).toEqual({ goals: '3', runs: '1' });
      const dryRun = await runCommand(
        'npm',
        ['run', '--silent', 'backfill', '--', 'rollback', '--dry-run', '--json'],
        env(),
      );
      expect(dryRun.code).toBe(0);
      expect(JSON.parse(dryRun.stdout)).toMatchObject({ dryRun: true, deleted: 3 });
      expect(await snapshot()).toEqual({ goals: '3', runs: '1' });
      // The query sees a rollback: the goals the dry run counted are there to delete.
      expect((await startBin(['rollback'], env()).done).code).toBe(0);
      expect(await snapshot()).toEqual({ goals: '0', runs: '1' });
    });
  },
);

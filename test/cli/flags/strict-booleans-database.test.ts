import { describe, expect, it } from 'vitest';
import { tableCounts } from '../../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../../support/test-database';
import { seedKnownSessions } from '../cli-fixtures';
import { asPlainLine, linesOf, runCli, withoutServer } from '../cli-harness';

describe.skipIf(withoutServer)('boolean flags take only true or false', () => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url });

  useMigratedDatabase((created) => {
    db = created;
  });

  /** Backfilled goals a rollback would delete, and new sessions a run would backfill. */
  async function seedWorkForBoth(): Promise<void> {
    await seedKnownSessions(db.knex);
    expect((await runCli(['run'], { env: env() })).code).toBe(0);
    await seedKnownSessions(db.knex);
  }

  it.each([
    ['run', '--dry-run=1'],
    ['run', '--dry-run=yes'],
    ['run', '--dry-run=on'],
    ['run', '--dry-run=TRUE'],
    ['run', '--dryRun=yes'],
    ['rollback', '--dry-run=1'],
    ['rollback', '--dry-run=yes'],
    ['rollback', '--dry-run=on'],
    ['rollback', '--include-changed=yes'],
    ['run', '--json=yes'],
    ['rollback', '--json=yes'],
    ['status', '--json=yes'],
    ['run', '--verbose=1'],
  ])('%s %s: one usage line, exit 2, nothing written', async (command, flag) => {
    await seedWorkForBoth();
    const before = await tableCounts(db.knex);
    const run = await runCli([command, flag], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const name = flag
      .slice(2)
      .split('=')[0]
      ?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    expect(linesOf(run.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^goal-backfill: error: --${name} accepts only true or false after = \\(got "[^"]+"\\): write --${name} or --no-${name}; see 'goal-backfill ${command} --help'$`,
        ),
      ),
    ]);
    expect(await tableCounts(db.knex)).toEqual(before);
  });

  it.each([
    // The value of --log-format passed for the command word, so rollback's flags went unchecked
    // and --include-changed=yes was read as false: a real rollback of the unchanged goals.
    [['--log-format', 'json', 'rollback', '--include-changed=yes']],
    // yargs keeps the last of a repeated boolean without a word.
    [['rollback', '--dry-run', '--no-dry-run']],
    [['rollback', '--dry-run', '--dry-run=false']],
    [['run', '--dry-run', '--no-dry-run']],
  ])('%j: exit 2, one line, nothing written or deleted', async (argv) => {
    await seedWorkForBoth();
    const before = await tableCounts(db.knex);
    const run = await runCli(argv, { env: env() });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    // Under --log-format json, the one line is a cli.error event saying the same.
    expect(linesOf(run.stderr).map(asPlainLine)).toEqual([
      expect.stringMatching(/^goal-backfill: error: --/),
    ]);
    expect(await tableCounts(db.knex)).toEqual(before);
  });

  it('names every loose boolean in the one line', async () => {
    const run = await runCli(['rollback', '--dry-run=yes', '--json=1'], { env: env() });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('--dry-run accepts only');
    expect(run.stderr).toContain('--json accepts only');
  });

  it.each([['--dry-run'], ['--dry-run=true']])('run %s writes nothing', async (flag) => {
    await seedWorkForBoth();
    const before = await tableCounts(db.knex);
    const run = await runCli(['run', flag, '--json=true'], { env: env() });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: true, goalsCreated: 3 });
    expect(await tableCounts(db.knex)).toEqual(before);
  });

  it.each([['--dry-run'], ['--dry-run=true']])('rollback %s deletes nothing', async (flag) => {
    await seedWorkForBoth();
    const before = await tableCounts(db.knex);
    const run = await runCli(['rollback', flag, '--json'], { env: env() });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: true, deleted: 3 });
    expect(await tableCounts(db.knex)).toEqual(before);
  });

  it.each([[['--dry-run=false']], [['--no-dry-run']], [['--dry-run', 'false']]])(
    'rollback %j is a real rollback, and refused beside --dry-run',
    async (flags) => {
      await seedWorkForBoth();
      const refused = await runCli(['rollback', ...flags, '--dry-run'], { env: env() });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--dry-run was given 2 times: give it once');
      expect(await db.knex('treatment_goals').count({ n: '*' })).toEqual([{ n: '3' }]);
      const run = await runCli(['rollback', ...flags, '--json'], { env: env() });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: false, deleted: 3 });
      expect(await db.knex('treatment_goals').count({ n: '*' })).toEqual([{ n: '0' }]);
    },
  );

  it.each([['--dry-run=false'], ['--no-dry-run']])('run %s is a real run', async (flag) => {
    await seedKnownSessions(db.knex);
    const run = await runCli(['run', flag, '--json'], { env: env() });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: false, goalsCreated: 3 });
    expect(await db.knex('treatment_goals').count({ n: '*' })).toEqual([{ n: '3' }]);
  });
});

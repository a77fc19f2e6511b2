import { describe, expect, it } from 'vitest';
import { tableCounts } from '../../support/fixtures';
import { useMigratedDatabase, type TestDatabase } from '../../support/test-database';
import { seedKnownSessions } from '../cli-fixtures';
import { linesOf, runCli, withoutServer } from '../cli-harness';

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

  it.each([['--dry-run=false'], ['--no-dry-run']])('run %s is a real run', async (flag) => {
    await seedKnownSessions(db.knex);
    const run = await runCli(['run', flag, '--json'], { env: env() });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: false, goalsCreated: 3 });
    expect(await db.knex('treatment_goals').count({ n: '*' })).toEqual([{ n: '3' }]);
  });
});

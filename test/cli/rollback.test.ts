import { beforeEach, describe, expect, it } from 'vitest';
import { holdBackfillLock } from '../support/database-faults';
import { insertClinicianGoal, readGoals, tableCounts } from '../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';
import { MARKER, seedKnownSessions } from './cli-fixtures';
import { linesOf, runCli, withoutServer } from './cli-harness';

const RULE = '='.repeat(70);

describe.skipIf(withoutServer)('goal-backfill rollback', () => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url });

  useMigratedDatabase((created) => {
    db = created;
  });

  /** Three backfilled goals, one of them since changed by a clinician, and one clinician goal. */
  beforeEach(async () => {
    const [session] = await seedKnownSessions(db.knex);
    expect((await runCli(['run'], { env: env() })).code).toBe(0);
    await db
      .knex('treatment_goals')
      .where({ description: 'Read' })
      .update({ status: 'in_progress' });
    await insertClinicianGoal(db.knex, {
      patientId: session?.patientId ?? '',
      description: 'Sleep',
    });
  });

  it('deletes the unchanged backfilled goals and keeps the rest', async () => {
    const run = await runCli(['rollback'], { env: env() });
    expect(run.code).toBe(0);
    expect(
      run.stdout.replace(/^Execution Time: \d+\.\d\d seconds$/m, 'Execution Time: X.XX seconds'),
    ).toBe(
      [
        RULE,
        'GOAL ROLLBACK SUMMARY',
        RULE,
        'Execution Time: X.XX seconds',
        'Goals Deleted: 2',
        'Goals Kept (Changed by Clinicians): 1',
        'Goals Kept (Entered by Clinicians): 1',
        'Checkpoints Dropped: 0',
        RULE,
        '',
      ].join('\n'),
    );
    expect((await readGoals(db.knex)).map((goal) => goal.description).sort()).toEqual([
      'Read',
      'Sleep',
    ]);
    expect(run.stderr).toContain('rollback.finish');
    expect(run.stderr).not.toContain('WARNING');
  });

  it('--dry-run says what it would delete and keep, and deletes nothing', async () => {
    const before = await tableCounts(db.knex);
    const run = await runCli(['rollback', '--dry-run'], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('GOAL ROLLBACK SUMMARY (DRY RUN: nothing was deleted)\n');
    expect(run.stdout).toContain('Goals That Would Be Deleted: 2\n');
    expect(run.stdout).toContain('Goals Kept (Changed by Clinicians): 1\n');
    expect(run.stdout).toContain('Goals Kept (Entered by Clinicians): 1\n');
    expect(await tableCounts(db.knex)).toEqual(before);
  });

  it('--include-changed warns on stderr before deleting, then deletes changed goals too', async () => {
    const run = await runCli(['rollback', '--include-changed', '--json', '--verbose'], {
      env: env(),
    });
    expect(run.code).toBe(0);
    const lines = linesOf(run.stderr);
    const warning = lines.findIndex((line) => line.startsWith('goal-backfill: WARNING:'));
    expect(lines[warning]).toBe(
      'goal-backfill: WARNING: --include-changed: also deleting the 1 backfilled goal(s) that clinicians have changed; their changes cannot be recovered',
    );
    const firstDelete = lines.findIndex((line) => line.includes('rollback.batch'));
    expect(firstDelete).toBeGreaterThan(warning);
    expect(JSON.parse(run.stdout)).toMatchObject({
      dryRun: false,
      includeChanged: true,
      deleted: 3,
      keptChanged: 0,
      keptClinician: 1,
    });
    expect((await readGoals(db.knex)).map((goal) => goal.description)).toEqual(['Sleep']);
  });

  it('--include-changed --dry-run warns what a real rollback would do, and deletes nothing', async () => {
    const before = await tableCounts(db.knex);
    const run = await runCli(['rollback', '--include-changed', '--dry-run'], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      'goal-backfill: WARNING: --include-changed: a real rollback would also delete the 1 backfilled goal(s)',
    );
    expect(run.stdout).toContain('Goals That Would Be Deleted: 3\n');
    expect(await tableCounts(db.knex)).toEqual(before);
  });

  it('--json prints only the result', async () => {
    const run = await runCli(['rollback', '--json', '--dry-run'], { env: env() });
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: true, deleted: 2, keptChanged: 1 });
  });

  it('--batch-size sets the goals deleted per statement', async () => {
    const deletedPerBatch = (stderr: string) =>
      linesOf(stderr)
        .filter((line) => line.includes('rollback.batch'))
        .map((line) => Number(/ deleted=(\d+)/.exec(line)?.[1]))
        .filter((deleted) => deleted > 0);
    const run = await runCli(['rollback', '--batch-size', '1', '--verbose'], { env: env() });
    expect(run.code).toBe(0);
    expect(deletedPerBatch(run.stderr)).toEqual([1, 1]);
  });

  it('deletes in batches of 5000 by default', async () => {
    const run = await runCli(['rollback', '--verbose'], { env: env() });
    const batches = linesOf(run.stderr).filter((line) => line.includes('rollback.batch'));
    expect(batches[0]).toMatch(/ deleted=2 /);
  });

  it('exits 3 and deletes nothing while a backfill holds the lock', async () => {
    await holdBackfillLock(db.url, async (pid) => {
      const before = await tableCounts(db.knex);
      const run = await runCli(['rollback'], { env: env() });
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(`backend pid ${pid}`);
      expect(await tableCounts(db.knex)).toEqual(before);
    });
  });

  it('never prints goal text', async () => {
    const run = await runCli(['rollback', '--include-changed', '--verbose'], { env: env() });
    expect(`${run.stdout}${run.stderr}`).not.toContain(MARKER);
  });
});

import { describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { silentLogger } from '../../src/logging';
import { runStoppedAfterFirstPage } from '../support/backfill-assertions';
import { holdBackfillLock } from '../support/database-faults';
import { insertClinicianGoal } from '../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';
import { seedKnownSessions } from './cli-fixtures';
import { linesOf, runCli, withoutServer } from './cli-harness';

describe.skipIf(withoutServer)('goal-backfill status', () => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url });

  useMigratedDatabase((created) => {
    db = created;
  });

  it('shows an untouched database', async () => {
    const run = await runCli(['status'], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Backfilled goals (unchanged): 0\n');
    expect(run.stdout).toContain('Lock: free\n');
    expect(run.stdout).toContain('Resumable run: none\n');
    expect(run.stdout).toContain('  no runs recorded yet\n');
  });

  it('lists real runs with how they were invoked and their counts, never dry runs', async () => {
    const [session] = await seedKnownSessions(db.knex);
    await insertClinicianGoal(db.knex, {
      patientId: session?.patientId ?? '',
      description: 'Sleep',
    });
    await runBackfill({ knex: db.knex, logger: silentLogger, invokedBy: 'seed' });
    await db.knex('treatment_goals').where({ description: 'Read' }).update({ status: 'completed' });
    expect((await runCli(['run', '--dry-run'], { env: env() })).code).toBe(0);
    expect((await runCli(['run'], { env: env() })).code).toBe(0);

    const run = await runCli(['status'], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Backfilled goals (unchanged): 2\n');
    expect(run.stdout).toContain('Backfilled goals changed by clinicians: 1\n');
    expect(run.stdout).toContain('Goals entered by clinicians: 1\n');
    expect(run.stdout).toContain('dry runs write nothing, so they are never listed');
    const rows = run.stdout.split('\n').filter((line) => /^\d{4}-\d\d-\d\d /.test(line));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/ cli +succeeded +5 +0 +4 +3 +0 /);
    expect(rows[1]).toMatch(/ seed +succeeded +5 +3 +1 +3 +0 /);
  });

  it('--json gives the same facts as one object', async () => {
    await seedKnownSessions(db.knex);
    await runCli(['run'], { env: env() });
    const run = await runCli(['status', '--json'], { env: env() });
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(status.goals).toEqual({
      unchangedBackfill: 3,
      changedBackfill: 0,
      clinician: 0,
      seed: 0,
    });
    expect(status.lockHolder).toBeNull();
    expect(status.resumableRun).toBeNull();
    expect(status.recentRuns).toHaveLength(1);
    expect(status.recentRuns[0]).toMatchObject({ invokedBy: 'cli', status: 'succeeded' });
  });

  it('--limit caps the runs listed', async () => {
    await seedKnownSessions(db.knex);
    for (let i = 0; i < 3; i += 1) await runCli(['run'], { env: env() });
    const json = JSON.parse(
      (await runCli(['status', '--json', '--limit', '2'], { env: env() })).stdout,
    );
    expect(json.recentRuns).toHaveLength(2);
    const text = await runCli(['status', '--limit', '1'], { env: env() });
    expect(text.stdout.split('\n').filter((line) => /^\d{4}-/.test(line))).toHaveLength(1);
  });

  it('names the holder of the lock without waiting for it', async () => {
    await holdBackfillLock(db.url, async (pid) => {
      const run = await runCli(['status'], { env: env() });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Lock: held by backend pid ${pid}, application operator-two\n`);
    });
  });

  it("says when Knex's migration lock was left set by a killed migration", async () => {
    await db.knex('goal_backfill_migrations_lock').update({ is_locked: 1 });
    try {
      const run = await runCli(['status'], { env: env() });
      expect(run.stdout).toContain('Knex migration lock: stuck');
      expect(JSON.parse((await runCli(['status', '--json'], { env: env() })).stdout)).toMatchObject(
        {
          knexMigrationLockStuck: true,
        },
      );
    } finally {
      await db.knex('goal_backfill_migrations_lock').update({ is_locked: 0 });
    }
    expect((await runCli(['status'], { env: env() })).stdout).not.toContain('Knex migration lock');
  });

  it('reports an unexpected database error in one safe line, with a trace only under --verbose', async () => {
    await db.knex.raw('ALTER TABLE goal_backfill_runs RENAME COLUMN runner TO runner_renamed');
    try {
      const plain = await runCli(['status'], { env: env() });
      expect(plain.code).toBe(1);
      expect(plain.stdout).toBe('');
      expect(linesOf(plain.stderr)).toEqual([
        'goal-backfill: error: undefined_column [42703] (rerun with --verbose for a trace)',
      ]);
      const verbose = await runCli(['status', '--verbose'], { env: env() });
      expect(verbose.code).toBe(1);
      expect(linesOf(verbose.stderr)[0]).toBe('goal-backfill: error: undefined_column [42703]');
      expect(verbose.stderr).toMatch(/^\s+at /m);
      expect(verbose.stderr).not.toContain('runner');
    } finally {
      await db.knex.raw('ALTER TABLE goal_backfill_runs RENAME COLUMN runner_renamed TO runner');
    }
  });

  it('says which interrupted run the next run will resume', async () => {
    await seedKnownSessions(db.knex);
    const interrupted = await runStoppedAfterFirstPage(db.knex, 2);
    expect(interrupted.outcome).toBe('interrupted');
    const run = await runCli(['status'], { env: env() });
    expect(run.stdout).toContain(
      `Resumable run: ${interrupted.runId} (interrupted, 2 sessions done, stopped with ABORTED)\n`,
    );
    expect(run.stdout).toContain('`goal-backfill run` resumes it');
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { holdBackfillLock } from '../support/database-faults';
import { readGoals, tableCounts } from '../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';
import { seedManySessions } from './cli-fixtures';
import { type CliRunOptions, linesOf, runCli, withoutServer } from './cli-harness';

/** 3000 sessions of 20 patients, 5 distinct tasks each: 100 goals in all. */
const SESSIONS = 3000;
const GOALS = 100;

/** Aborts, as SIGINT would, when the first progress line appears on stderr. */
function interruptAfterFirstProgress(): CliRunOptions & { controller: AbortController } {
  const controller = new AbortController();
  return {
    controller,
    signal: controller.signal,
    onStderr: (text) => {
      if (!controller.signal.aborted && text.includes('backfill.progress')) controller.abort();
    },
  };
}

describe.skipIf(withoutServer)('goal-backfill run interrupted by SIGINT or SIGTERM', () => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url });
  const pagedArgs = ['--batch-size', '100', '--progress-every', '100'];

  useMigratedDatabase((created) => {
    db = created;
  });

  beforeEach(async () => {
    await seedManySessions(db.knex, SESSIONS);
  });

  it('stops after the current page, keeps the checkpoint, exits 130 and says how to resume', async () => {
    const run = await runCli(['run', ...pagedArgs], {
      env: env(),
      ...interruptAfterFirstProgress(),
    });
    expect(run.code).toBe(130);
    expect(run.stdout.split('\n')[1]).toBe('GOAL MIGRATION SUMMARY (INTERRUPTED: partial counts)');
    const processed = Number(/Sessions Processed: (\d+)/.exec(run.stdout)?.[1]);
    expect(processed).toBeGreaterThanOrEqual(100);
    expect(processed).toBeLessThan(SESSIONS);
    expect(processed % 100).toBe(0);

    const [record] = await db.knex('goal_backfill_runs').select('id', 'status', 'read_pass');
    expect(record?.status).toBe('interrupted');
    expect(record?.read_pass?.split.lanes[0].cursor).not.toBeNull();
    const notices = linesOf(run.stderr).filter((line) => line.startsWith('goal-backfill:'));
    expect(notices).toEqual([
      'goal-backfill: WARNING: stopping after the current page (press Ctrl-C again to stop at once)',
      `goal-backfill: WARNING: run ${record?.id} interrupted after ${processed} of ${SESSIONS} sessions; its checkpoint is kept. Run \`goal-backfill run\` to resume it, or \`goal-backfill run --from-start\` to start over`,
    ]);

    const resumed = await runCli(['run', '--json'], { env: env() });
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      runId: record?.id,
      resumed: true,
      outcome: 'completed',
      sessionsProcessed: SESSIONS,
      goalsCreated: GOALS,
    });
    expect(await readGoals(db.knex)).toHaveLength(GOALS);
  });

  it('prints the interrupted summary as JSON with --json', async () => {
    const run = await runCli(['run', '--json', ...pagedArgs], {
      env: env(),
      ...interruptAfterFirstProgress(),
    });
    expect(run.code).toBe(130);
    expect(JSON.parse(run.stdout)).toMatchObject({ outcome: 'interrupted', dryRun: false });
  });

  it('--from-start ignores the checkpoint of an interrupted run', async () => {
    const first = await runCli(['run', ...pagedArgs], {
      env: env(),
      ...interruptAfterFirstProgress(),
    });
    expect(first.code).toBe(130);
    const again = await runCli(['run', '--from-start', '--json'], { env: env() });
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary).toMatchObject({ resumed: false, sessionsProcessed: SESSIONS });
    expect(summary.goalsCreated).toBeLessThan(GOALS);
    expect(summary.goalsCreated + summary.duplicatesSkipped).toBe(SESSIONS);
    expect(again.stderr).toContain('backfill.checkpoint_abandoned');
    const statuses = await db.knex('goal_backfill_runs').orderBy('started_at').pluck('status');
    expect(statuses).toEqual(['abandoned', 'succeeded']);
  });

  it('a dry run stops too, writing nothing', async () => {
    const before = await tableCounts(db.knex);
    const run = await runCli(['run', '--dry-run', ...pagedArgs], {
      env: env(),
      ...interruptAfterFirstProgress(),
    });
    expect(run.code).toBe(130);
    expect(run.stdout.split('\n')[1]).toBe(
      'GOAL MIGRATION SUMMARY (DRY RUN: nothing was written; INTERRUPTED: partial counts)',
    );
    expect(run.stderr).toMatch(
      /dry run interrupted after \d+ of 3000 sessions; nothing was written/,
    );
    expect(await tableCounts(db.knex)).toEqual(before);
  });

  it('a dry run warns that a real run would resume the interrupted one', async () => {
    const first = await runCli(['run', ...pagedArgs], {
      env: env(),
      ...interruptAfterFirstProgress(),
    });
    expect(first.code).toBe(130);
    const dry = await runCli(['run', '--dry-run'], { env: env() });
    expect(dry.code).toBe(0);
    expect(dry.stderr).toMatch(
      /WARNING: run [\w-]+ was interrupted and a real run would resume it; this dry run counts every session from the start/,
    );
  });

  it('exits 130 when interrupted while waiting for the lock', async () => {
    await holdBackfillLock(db.url, async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const started = Date.now();
      const run = await runCli(['run', '--lock-wait-ms', '60000'], {
        env: env(),
        signal: controller.signal,
      });
      expect(run.code).toBe(130);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(run.stderr).toContain('goal-backfill: error: interrupted while waiting for the lock');
      expect(await readGoals(db.knex)).toEqual([]);
    });
  });
});

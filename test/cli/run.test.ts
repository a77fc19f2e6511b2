import { describe, expect, it } from 'vitest';
import { resetData } from '../support/backfill-assertions';
import { insertClinicianGoal, readGoals, tableCounts } from '../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';
import { MARKER, seedKnownSessions } from './cli-fixtures';
import { linesOf, runCli, withoutServer } from './cli-harness';

const RULE = '='.repeat(70);

/** The counts a run reports that a dry run must predict. */
const COUNT_FIELDS = [
  'totalSessions',
  'sessionsProcessed',
  'sessionsWithActionItems',
  'sessionsSkippedByReason',
  'itemsSeen',
  'goalsCreated',
  'duplicatesSkipped',
  'invalidSkipped',
  'invalidByReason',
  'errors',
  'itemsInFailedSessions',
] as const;

function countsOf(summary: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(COUNT_FIELDS.map((field) => [field, summary[field]]));
}

function withTimeMasked(text: string): string {
  return text.replace(/^Execution Time: \d+\.\d\d seconds$/m, 'Execution Time: X.XX seconds');
}

describe.skipIf(withoutServer)('goal-backfill run', () => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url });

  useMigratedDatabase((created) => {
    db = created;
  });

  it('backfills and prints the summary in its fixed shape', async () => {
    await seedKnownSessions(db.knex);
    const run = await runCli(['run'], { env: env() });
    expect(run.code).toBe(0);
    const [{ id: runId }] = await db.knex('goal_backfill_runs').select('id');
    expect(withTimeMasked(run.stdout)).toBe(
      [
        RULE,
        'GOAL MIGRATION SUMMARY',
        RULE,
        'Execution Time: X.XX seconds',
        'Sessions Processed: 5',
        'Sessions with Action Items: 3',
        'Goals Created: 3',
        'Goals Skipped (Duplicate): 1',
        'Goals Skipped (Invalid): 3',
        'Errors Encountered: 0',
        RULE,
        'Invalid items by reason:',
        '  not_an_object: 1',
        '  task_not_a_string: 1',
        '  blank_task: 1',
        'Sessions without action items by reason:',
        '  notes_null: 1',
        '  action_items_empty: 1',
        `Run: ${runId}`,
        '',
      ].join('\n'),
    );
    expect((await readGoals(db.knex)).map((goal) => goal.description).sort()).toEqual([
      `Journal ${MARKER}`,
      'Read',
      'Walk daily',
    ]);
    const [record] = await db.knex('goal_backfill_runs').select('invoked_by', 'status');
    expect(record).toEqual({ invoked_by: 'cli', status: 'succeeded' });
    expect(run.stderr).toMatch(/info\s+backfill\.finish .*goalsCreated=3/);
  });

  it('runs `run` when no command is given', async () => {
    await seedKnownSessions(db.knex);
    const run = await runCli([], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Goals Created: 3\n');
  });

  it('--dry-run reports the counts the real run then produces, and changes nothing', async () => {
    const [session] = await seedKnownSessions(db.knex);
    await insertClinicianGoal(db.knex, {
      patientId: session?.patientId ?? '',
      description: 'Read',
    });
    const before = await tableCounts(db.knex);
    const goalsBefore = await readGoals(db.knex);

    const dry = await runCli(['run', '--dry-run', '--json'], { env: env() });
    expect(dry.code).toBe(0);
    expect(await tableCounts(db.knex)).toEqual(before);
    expect(await readGoals(db.knex)).toEqual(goalsBefore);
    const predicted = JSON.parse(dry.stdout);
    expect(predicted).toMatchObject({ dryRun: true, runId: null, goalsCreated: 2 });

    const real = await runCli(['run', '--json'], { env: env() });
    expect(real.code).toBe(0);
    const produced = JSON.parse(real.stdout);
    expect(produced.dryRun).toBe(false);
    expect(countsOf(produced)).toEqual(countsOf(predicted));
    expect((await tableCounts(db.knex)).treatment_goals).toBe((before.treatment_goals ?? 0) + 2);

    const again = JSON.parse((await runCli(['run', '--json'], { env: env() })).stdout);
    expect(again.goalsCreated).toBe(0);
    expect(again.duplicatesSkipped).toBe(produced.duplicatesSkipped + produced.goalsCreated);
  });

  it('--dry-run says so in the banner', async () => {
    await seedKnownSessions(db.knex);
    const run = await runCli(['run', '--dry-run'], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[1]).toBe('GOAL MIGRATION SUMMARY (DRY RUN: nothing was written)');
    expect(run.stdout).toContain('Goals Created: 3\n');
    expect(await readGoals(db.knex)).toEqual([]);
  });

  it('--json prints only the summary object to stdout, logs to stderr', async () => {
    await seedKnownSessions(db.knex);
    const run = await runCli(['run', '--json'], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    const summary = JSON.parse(run.stdout);
    expect(Object.keys(summary).sort()).toEqual(
      [
        'runId',
        'outcome',
        'dryRun',
        'resumed',
        'totalSessions',
        'sessionsProcessed',
        'sessionsWithActionItems',
        'sessionsSkippedByReason',
        'itemsSeen',
        'goalsCreated',
        'duplicatesSkipped',
        'invalidSkipped',
        'invalidByReason',
        'errors',
        'itemsInFailedSessions',
        'elapsedMs',
        'errorLog',
      ].sort(),
    );
    expect(summary).toMatchObject({
      outcome: 'completed',
      dryRun: false,
      resumed: false,
      sessionsProcessed: 5,
      sessionsWithActionItems: 3,
      goalsCreated: 3,
      duplicatesSkipped: 1,
      invalidSkipped: 3,
      invalidByReason: { blank_task: 1, not_an_object: 1, task_not_a_string: 1 },
      errors: 0,
      errorLog: null,
    });
    expect(typeof summary.elapsedMs).toBe('number');
    expect(run.stderr).toContain('backfill.finish');
  });

  it('--verbose logs page timings and each session decision by id, never the text', async () => {
    const sessions = await seedKnownSessions(db.knex);
    const run = await runCli(['run', '--verbose', '--batch-size', '2'], { env: env() });
    expect(run.code).toBe(0);
    const pages = linesOf(run.stderr).filter((line) => / debug backfill\.page /.test(line));
    expect(pages).toHaveLength(3);
    for (const page of pages) expect(page).toMatch(/durationMs=\d+/);
    const decisions = linesOf(run.stderr).filter((line) => / debug backfill\.session /.test(line));
    expect(decisions).toHaveLength(5);
    for (const session of sessions) expect(run.stderr).toContain(`sessionId=${session.id}`);
    expect(`${run.stdout}${run.stderr}`).not.toContain(MARKER);
  });

  it('logs no debug lines without --verbose', async () => {
    await seedKnownSessions(db.knex);
    const run = await runCli(['run'], { env: env() });
    expect(run.stderr).not.toMatch(/ debug /);
  });

  it('--batch-size sets the sessions per page', async () => {
    await seedKnownSessions(db.knex);
    const run = await runCli(['run', '--verbose', '--batch-size', '4'], { env: env() });
    expect(run.stderr).toMatch(/backfill\.start .*batchSize=4/);
    expect(linesOf(run.stderr).filter((line) => line.includes('backfill.page'))).toHaveLength(2);
  });

  it('--progress-every sets the sessions between progress lines off a terminal', async () => {
    await seedKnownSessions(db.knex);
    const every2 = await runCli(['run', '--batch-size', '1', '--progress-every', '2'], {
      env: env(),
    });
    const progress = linesOf(every2.stderr).filter((line) => line.includes('backfill.progress'));
    expect(progress.map((line) => /sessionsProcessed=(\d+)/.exec(line)?.[1])).toEqual(['2', '4']);

    await resetData(db.knex);
    await seedKnownSessions(db.knex);
    const byDefault = await runCli(['run', '--batch-size', '1'], { env: env() });
    expect(byDefault.stderr).not.toContain('backfill.progress');
  });

  it('draws a live bar with the rate and ETA instead of progress lines on a terminal', async () => {
    await seedKnownSessions(db.knex);
    const run = await runCli(['run', '--batch-size', '1', '--progress-every', '1'], {
      env: env(),
      isTTY: true,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('backfill.progress');
    expect(run.stderr).toMatch(/\| 5\/5 sessions \| [\d,]+ sessions\/s \| ETA 0s/);
    expect(run.stdout).not.toContain('sessions/s');
  });

  it('--pause-ms waits after each full page', async () => {
    await seedKnownSessions(db.knex);
    const run = await runCli(['run', '--json', '--batch-size', '2', '--pause-ms', '200'], {
      env: env(),
    });
    expect(run.code).toBe(0);
    // Pages of 2, 2 and 1 sessions: a pause after each of the two full ones.
    expect(JSON.parse(run.stdout).elapsedMs).toBeGreaterThanOrEqual(400);
  });

  it('--max-sessions-per-second holds the run to that rate', async () => {
    await seedKnownSessions(db.knex);
    const run = await runCli(
      ['run', '--json', '--batch-size', '2', '--max-sessions-per-second', '8'],
      { env: env() },
    );
    expect(run.code).toBe(0);
    // 4 sessions in full pages at 8 per second take at least half a second.
    expect(JSON.parse(run.stdout).elapsedMs).toBeGreaterThanOrEqual(450);
  });

  it('--log-format json writes every stderr line as a JSON object', async () => {
    await seedKnownSessions(db.knex);
    const run = await runCli(['run', '--log-format', 'json', '--verbose'], { env: env() });
    expect(run.code).toBe(0);
    const events = linesOf(run.stderr).map((line) => JSON.parse(line));
    expect(events.map((event) => event.message)).toContain('backfill.finish');
    expect(events.find((event) => event.message === 'backfill.finish')).toMatchObject({
      level: 'info',
      goalsCreated: 3,
    });
    expect(run.stderr).not.toContain(MARKER);
  });

  it('says so when a run resumed an interrupted one', async () => {
    await seedKnownSessions(db.knex);
    const controller = new AbortController();
    const first = await runCli(['run', '--batch-size', '2', '--progress-every', '2'], {
      env: env(),
      signal: controller.signal,
      onStderr: (text) => {
        if (text.includes('backfill.progress')) controller.abort();
      },
    });
    expect(first.code).toBe(130);
    const resumed = await runCli(['run'], { env: env() });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(
      "Resumed: this run continued an interrupted run; the counts include that run's pages",
    );
    expect(resumed.stdout).toContain('Sessions Processed: 5\n');
  });
});

import { describe, expect, it } from 'vitest';
import { emptyCounts } from '../src/backfill/rules';
import type { BackfillResult, RunRecord } from '../src/backfill/store';
import {
  renderFailureTrace,
  renderRollbackJson,
  renderRollbackReport,
  renderRunSummary,
  renderRunSummaryJson,
  renderStatusJson,
  renderStatusReport,
} from '../src/report';
import type { RollbackResult } from '../src/rollback';
import type { BackfillStatus } from '../src/status';

const RULE = '='.repeat(70);

function result(overrides: Partial<BackfillResult> = {}): BackfillResult {
  return {
    sessionsProcessed: 1200,
    sessionsWithActionItems: 1000,
    sessionsSkippedByReason: { action_items_empty: 150, notes_null: 50 },
    itemsSeen: 3000,
    goalsCreated: 2500,
    duplicatesSkipped: 300,
    invalidSkipped: 190,
    invalidByReason: { blank_task: 40, not_an_object: 150 },
    errors: 2,
    itemsInFailedSessions: 10,
    runId: '11111111-2222-3333-4444-555555555555',
    dryRun: false,
    resumed: false,
    outcome: 'completed',
    totalSessions: 1200,
    elapsedMs: 12_345,
    failures: [],
    ...overrides,
  };
}

describe('renderRunSummary', () => {
  it('prints the fixed block, the breakdowns, the run and where the failures are', () => {
    expect(renderRunSummary(result(), { errorLogPath: null })).toBe(
      [
        RULE,
        'GOAL MIGRATION SUMMARY',
        RULE,
        'Execution Time: 12.35 seconds',
        'Sessions Processed: 1200',
        'Sessions with Action Items: 1000',
        'Goals Created: 2500',
        'Goals Skipped (Duplicate): 300',
        'Goals Skipped (Invalid): 190',
        'Errors Encountered: 2',
        RULE,
        'Invalid items by reason:',
        '  not_an_object: 150',
        '  blank_task: 40',
        'Sessions without action items by reason:',
        '  notes_null: 50',
        '  action_items_empty: 150',
        'Run: 11111111-2222-3333-4444-555555555555',
        'Failed sessions: 2; their ids and error codes are in table goal_backfill_failures for run 11111111-2222-3333-4444-555555555555.',
        '',
      ].join('\n'),
    );
  });

  it('points at the error log when one was written', () => {
    const text = renderRunSummary(result(), { errorLogPath: '/tmp/failed.jsonl' });
    expect(text).toContain(
      'Failed sessions: 2; error log: /tmp/failed.jsonl (also in table goal_backfill_failures for run 11111111-2222-3333-4444-555555555555).',
    );
  });

  it('says when a run was a dry run, and that dry runs are not recorded', () => {
    const text = renderRunSummary(result({ dryRun: true, runId: null, errors: 0 }), {
      errorLogPath: null,
    });
    expect(text.split('\n')[1]).toBe('GOAL MIGRATION SUMMARY (DRY RUN: nothing was written)');
    expect(text).toContain(
      'Dry run: nothing was written, and dry runs are not recorded in goal_backfill_runs.',
    );
    expect(text).not.toContain('Run: ');
    expect(text).not.toContain('Failed sessions');
  });

  it('says when a run was interrupted, and when it resumed another', () => {
    const text = renderRunSummary(result({ outcome: 'interrupted', resumed: true, errors: 0 }), {
      errorLogPath: null,
    });
    expect(text.split('\n')[1]).toBe('GOAL MIGRATION SUMMARY (INTERRUPTED: partial counts)');
    expect(text).toContain(
      "Resumed: this run continued an interrupted run; the counts include that run's pages",
    );
    const both = renderRunSummary(result({ outcome: 'interrupted', dryRun: true }), {
      errorLogPath: null,
    });
    expect(both.split('\n')[1]).toBe(
      'GOAL MIGRATION SUMMARY (DRY RUN: nothing was written; INTERRUPTED: partial counts)',
    );
  });

  it('says none when nothing was invalid or skipped', () => {
    const text = renderRunSummary(
      result({ invalidByReason: {}, invalidSkipped: 0, sessionsSkippedByReason: {}, errors: 0 }),
      { errorLogPath: null },
    );
    expect(text).toContain(
      'Invalid items by reason:\n  none\nSessions without action items by reason:\n  none\n',
    );
  });
});

describe('renderRunSummaryJson', () => {
  it('prints one line of JSON with the counts and no failure details', () => {
    const text = renderRunSummaryJson(
      result({ failures: [{ sessionId: 's', patientId: 'p', sqlState: 'P0001', message: 'm' }] }),
      'errors.jsonl',
    );
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().includes('\n')).toBe(false);
    expect(JSON.parse(text)).toEqual({
      runId: '11111111-2222-3333-4444-555555555555',
      outcome: 'completed',
      dryRun: false,
      resumed: false,
      totalSessions: 1200,
      sessionsProcessed: 1200,
      sessionsWithActionItems: 1000,
      sessionsSkippedByReason: { action_items_empty: 150, notes_null: 50 },
      itemsSeen: 3000,
      goalsCreated: 2500,
      duplicatesSkipped: 300,
      invalidSkipped: 190,
      invalidByReason: { blank_task: 40, not_an_object: 150 },
      errors: 2,
      itemsInFailedSessions: 10,
      elapsedMs: 12_345,
      errorLog: 'errors.jsonl',
    });
  });
});

const MARKER = 'ROW-VALUE-MARKER-77';

describe('renderFailureTrace', () => {
  it('gives stack frames and safe cause lines, never a message that may quote row values', () => {
    const databaseError = Object.assign(new Error(`duplicate key (${MARKER})`), {
      code: '23505',
      severity: 'ERROR',
      constraint: 'treatment_goals_patient_description_key',
    });
    const err = new Error(`wrapped: ${MARKER}`, { cause: databaseError });
    const lines = renderFailureTrace(err);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines[0]).toMatch(/^\s+at /);
    expect(lines).toContain(
      'caused by: unique_violation (constraint treatment_goals_patient_description_key) [23505]',
    );
    expect(lines.join('\n')).not.toContain(MARKER);
  });

  it('drops message lines shaped like frames, from the error and from its causes', () => {
    const frameLike = [
      `    at ${MARKER}`,
      `    at ${MARKER} (/app/${MARKER}.js:1:2)`,
      `    at /srv/${MARKER}:3:4`,
    ].join('\n');
    const databaseError = Object.assign(new Error(`rejected\n${frameLike}`), {
      code: 'P0001',
      severity: 'ERROR',
      detail: `detail\n${frameLike}`,
      hint: `    at ${MARKER}-hint (x.js:1:1)`,
    });
    const err = new Error(`wrapped\n${frameLike}`, { cause: databaseError });
    const lines = renderFailureTrace(err);
    expect(lines.some((line) => /^\s+at /.test(line))).toBe(true);
    expect(lines).toContain('caused by: raise_exception [P0001]');
    expect(lines.join('\n')).not.toContain(MARKER);
  });

  it('is empty for a value that is not an error', () => {
    expect(renderFailureTrace('just a string')).toEqual([]);
  });
});

function run(overrides: Partial<RunRecord>): RunRecord {
  return {
    id: 'aaaaaaaa-0000-0000-0000-000000000001',
    invokedBy: 'cli',
    status: 'succeeded',
    runner: 'host pid 1',
    batchSize: 1000,
    startedAt: '2026-01-02T03:04:05.678Z',
    heartbeatAt: null,
    finishedAt: null,
    resumeCount: 0,
    checkpoint: null,
    pass: null,
    counts: { ...emptyCounts(), sessionsProcessed: 10, goalsCreated: 8, duplicatesSkipped: 1 },
    elapsedMs: 1500,
    errorCode: null,
    errorMessage: null,
    ...overrides,
  };
}

const idle: BackfillStatus = {
  recentRuns: [],
  goals: { unchangedBackfill: 0, changedBackfill: 0, clinician: 0, seed: 0 },
  lockHolder: null,
  resumableRun: null,
  knexMigrationLockStuck: false,
};

describe('renderStatusReport', () => {
  it('shows an untouched database', () => {
    expect(renderStatusReport(idle)).toBe(
      [
        RULE,
        'GOAL BACKFILL STATUS',
        RULE,
        'Backfilled goals (unchanged): 0',
        'Backfilled goals changed by clinicians: 0',
        'Goals entered by clinicians: 0',
        'Lock: free',
        'Resumable run: none',
        RULE,
        'Recent runs, newest first (dry runs write nothing, so they are never listed):',
        '  no runs recorded yet',
        '',
      ].join('\n'),
    );
  });

  it('lists runs with how they were invoked, their counts and status', () => {
    const text = renderStatusReport({
      ...idle,
      recentRuns: [
        run({}),
        run({
          id: 'bbbbbbbb-0000-0000-0000-000000000002',
          invokedBy: 'migration',
          status: 'completed_with_errors',
        }),
      ],
    });
    const lines = text.split('\n');
    const header = lines.findIndex((line) => line.startsWith('STARTED'));
    expect(lines[header]).toBe(
      'STARTED                   BY         STATUS                 SESSIONS   GOALS     DUPLICATE  INVALID  ERRORS  SECONDS   RUN ID',
    );
    expect(lines[header + 1]).toBe(
      '2026-01-02 03:04:05Z      cli        succeeded              10         8         1          0        0       1.50      aaaaaaaa-0000-0000-0000-000000000001',
    );
    expect(lines[header + 2]).toContain('migration  completed_with_errors');
  });

  it('names the lock holder and the run a next run would resume', () => {
    const text = renderStatusReport({
      ...idle,
      lockHolder: { pid: 4242, applicationName: 'goal-backfill cli' },
      resumableRun: run({ status: 'interrupted', errorCode: 'ABORTED' }),
    });
    expect(text).toContain('Lock: held by backend pid 4242, application goal-backfill cli\n');
    expect(text).toContain(
      'Resumable run: aaaaaaaa-0000-0000-0000-000000000001 (interrupted, 10 sessions done, stopped with ABORTED)\n',
    );
    expect(text).toContain('`goal-backfill run` resumes it');
    expect(text).not.toContain('Knex migration lock');
  });

  it("says when Knex's migration lock is stuck, and how to clear it", () => {
    const text = renderStatusReport({ ...idle, knexMigrationLockStuck: true });
    expect(text).toContain('Knex migration lock: stuck (a migration was killed mid-way)');
    expect(text).toContain('`npx knex migrate:unlock`');
  });
});

describe('renderStatusJson', () => {
  it('is one line of JSON with the status', () => {
    const status = { ...idle, recentRuns: [run({})] };
    expect(JSON.parse(renderStatusJson(status))).toEqual(JSON.parse(JSON.stringify(status)));
  });
});

const base: RollbackResult = {
  dryRun: false,
  includeChanged: false,
  deleted: 40,
  keptChanged: 3,
  keptClinician: 7,
  checkpointsAbandoned: 1,
  elapsedMs: 250,
};

describe('renderRollbackReport', () => {
  it('prints what was deleted and kept', () => {
    expect(renderRollbackReport(base)).toBe(
      [
        RULE,
        'GOAL ROLLBACK SUMMARY',
        RULE,
        'Execution Time: 0.25 seconds',
        'Goals Deleted: 40',
        'Goals Kept (Changed by Clinicians): 3',
        'Goals Kept (Entered by Clinicians): 7',
        'Checkpoints Dropped: 1',
        RULE,
        '',
      ].join('\n'),
    );
  });

  it('says a dry run deleted nothing, and what it would delete', () => {
    const text = renderRollbackReport({ ...base, dryRun: true, checkpointsAbandoned: 0 });
    expect(text).toContain('GOAL ROLLBACK SUMMARY (DRY RUN: nothing was deleted)\n');
    expect(text).toContain('Goals That Would Be Deleted: 40\n');
    expect(text).not.toContain('Checkpoints Dropped');
  });

  it('notes --include-changed', () => {
    const text = renderRollbackReport({ ...base, includeChanged: true, keptChanged: 0 });
    expect(text).toContain('--include-changed: backfilled goals that clinicians changed');
  });
});

describe('renderRollbackJson', () => {
  it('is one line of JSON with the result', () => {
    expect(JSON.parse(renderRollbackJson(base))).toEqual(base);
  });
});

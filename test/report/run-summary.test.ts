import { describe, expect, it } from 'vitest';
import type { BackfillResult } from '../../src/backfill/backfill-result';
import { renderRunSummary } from '../../src/report/run-summary';
import { renderRunSummaryJson } from '../../src/report/run-summary-json';

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

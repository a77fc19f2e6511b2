import { describe, expect, it } from 'vitest';
import { renderRollbackJson, renderRollbackReport } from '../../src/report/rollback-report';
import type { RollbackResult } from '../../src/rollback/rollback-backfill';

const RULE = '='.repeat(70);
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

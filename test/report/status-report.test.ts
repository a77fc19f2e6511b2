import { describe, expect, it } from 'vitest';
import { emptyCounts } from '../../src/bookkeeping/backfill-counts';
import type { RunRecord } from '../../src/bookkeeping/run-record';
import { renderStatusJson, renderStatusReport } from '../../src/report/status-report';
import type { BackfillStatus } from '../../src/status/backfill-status';

const RULE = '='.repeat(70);

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

import type { RunRecord } from '../bookkeeping/run-record';
import type { BackfillStatus } from '../status/backfill-status';
import { SUMMARY_RULE } from './run-summary';

/** Where the lock stands, in one line. */
function lockLine(status: BackfillStatus): string {
  const holder = status.lockHolder;
  if (holder === null) return 'Lock: free';
  const app = holder.applicationName ? `, application ${holder.applicationName}` : '';
  return `Lock: held by backend pid ${holder.pid}${app}`;
}

/** Knex's own migration lock, left set by a migration that was killed. */
function knexLockLines(status: BackfillStatus): string[] {
  if (!status.knexMigrationLockStuck) return [];
  return [
    'Knex migration lock: stuck (a migration was killed mid-way); when no migration is running,',
    '  run `npx knex migrate:unlock`, then `npx knex migrate:latest` resumes the backfill.',
  ];
}

function resumableLines(status: BackfillStatus): string[] {
  const run = status.resumableRun;
  if (run === null) return ['Resumable run: none'];
  const why = run.errorCode ? `, stopped with ${run.errorCode}` : '';
  return [
    `Resumable run: ${run.id} (${run.status}, ${run.counts.sessionsProcessed} sessions done${why})`,
    '  `goal-backfill run` resumes it; `goal-backfill run --from-start` starts over.',
  ];
}

/** An ISO 8601 UTC timestamp to the second, for people: `2026-11-24 01:32:46Z`. */
function toSecond(timestamp: string | null): string {
  return timestamp === null ? '-' : timestamp.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

const COLUMNS: readonly [string, number, (run: RunRecord) => string][] = [
  ['STARTED', 25, (run) => toSecond(run.startedAt)],
  ['BY', 10, (run) => run.invokedBy],
  ['STATUS', 22, (run) => run.status],
  ['SESSIONS', 10, (run) => String(run.counts.sessionsProcessed)],
  ['GOALS', 9, (run) => String(run.counts.goalsCreated)],
  ['DUPLICATE', 10, (run) => String(run.counts.duplicatesSkipped)],
  ['INVALID', 8, (run) => String(run.counts.invalidSkipped)],
  ['ERRORS', 7, (run) => String(run.counts.errors)],
  ['SECONDS', 9, (run) => (run.elapsedMs / 1000).toFixed(2)],
  ['RUN ID', 0, (run) => run.id],
];

function row(cells: readonly string[]): string {
  return cells
    .map((cell, i) => cell.padEnd(COLUMNS[i]?.[1] ?? 0))
    .join(' ')
    .trimEnd();
}

function runTable(runs: readonly RunRecord[]): string[] {
  if (runs.length === 0) return ['  no runs recorded yet'];
  return [
    row(COLUMNS.map(([title]) => title)),
    ...runs.map((run) => row(COLUMNS.map(([, , cell]) => cell(run)))),
  ];
}

/** The report `goal-backfill status` prints to stdout. */
export function renderStatusReport(status: BackfillStatus): string {
  const { goals } = status;
  const lines = [
    SUMMARY_RULE,
    'GOAL BACKFILL STATUS',
    SUMMARY_RULE,
    `Backfilled goals (unchanged): ${goals.unchangedBackfill}`,
    `Backfilled goals changed by clinicians: ${goals.changedBackfill}`,
    `Goals entered by clinicians: ${goals.clinician}`,
    ...(goals.seed > 0 ? [`Demo goals from the seeds (local database): ${goals.seed}`] : []),
    lockLine(status),
    ...knexLockLines(status),
    ...resumableLines(status),
    SUMMARY_RULE,
    'Recent runs, newest first (dry runs write nothing, so they are never listed):',
    ...runTable(status.recentRuns),
  ];
  return `${lines.join('\n')}\n`;
}

/** `goal-backfill status --json`: the status as one line of JSON. */
export function renderStatusJson(status: BackfillStatus): string {
  return `${JSON.stringify({
    goals: status.goals,
    lockHolder: status.lockHolder,
    resumableRun: status.resumableRun,
    knexMigrationLockStuck: status.knexMigrationLockStuck,
    recentRuns: status.recentRuns,
  })}\n`;
}

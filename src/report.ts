import {
  INVALID_ITEM_REASONS,
  SESSION_SKIP_REASONS,
  UNPLACED_SESSION_REASONS,
} from './backfill/rules';
import type { BackfillResult, RunRecord } from './backfill/store';
import { describeErrorSafely } from './db/failures';
import type { SessionFailure } from './errors';
import { TABLES } from './names';
import type { RollbackResult } from './rollback';
import type { BackfillStatus } from './status';

/*
 * What the commands print: the run summary (text and JSON), a failure's trace for --verbose,
 * the --error-log line, and the status and rollback reports. Each reads a returned result and
 * writes ids, counts and codes only.
 */

/**
 * Lines `  reason: count` for every reason with a count, in the order of `reasons`, then any
 * reason the list does not know; `  none` when there are none.
 */
export function renderCountBreakdown(
  counts: Readonly<Partial<Record<string, number>>>,
  reasons: readonly string[],
): string[] {
  const known = reasons.filter((reason) => (counts[reason] ?? 0) > 0);
  const unknown = Object.keys(counts)
    .filter((reason) => !reasons.includes(reason) && (counts[reason] ?? 0) > 0)
    .sort();
  const lines = [...known, ...unknown].map((reason) => `  ${reason}: ${counts[reason] ?? 0}`);
  return lines.length > 0 ? lines : ['  none'];
}

/** The rule above and below the summary: 70 `=`. */
export const SUMMARY_RULE = '='.repeat(70);

/** A report's title between two rules. */
function banner(title: string): string[] {
  return [SUMMARY_RULE, title, SUMMARY_RULE];
}

/** `value` as one line of JSON, for stdout or a log file. */
function jsonLine(value: object): string {
  return `${JSON.stringify(value)}\n`;
}

/** What the summary needs beyond the result. */
export interface RunSummaryContext {
  /** The `--error-log` file, or null when none was given. */
  errorLogPath: string | null;
}

function bannerNote(result: BackfillResult): string {
  const notes: string[] = [];
  if (result.dryRun) notes.push('DRY RUN: nothing was written');
  if (result.outcome === 'interrupted') notes.push('INTERRUPTED: partial counts');
  return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}

function runLines(result: BackfillResult): string[] {
  if (result.dryRun) {
    return [`Dry run: nothing was written, and dry runs are not recorded in ${TABLES.runs}.`];
  }
  const lines = [`Run: ${result.runId ?? '(none)'}`];
  if (result.resumed) {
    lines.push(
      "Resumed: this run continued an interrupted run; the counts include that run's pages, " +
        'the execution time covers this invocation only.',
    );
  }
  return lines;
}

function failureLines(result: BackfillResult, context: RunSummaryContext): string[] {
  if (result.errors === 0) return [];
  const table = `table ${TABLES.failures} for run ${result.runId ?? '(none)'}`;
  return [
    context.errorLogPath === null
      ? `Failed sessions: ${result.errors}; their ids and error codes are in ${table}.`
      : `Failed sessions: ${result.errors}; error log: ${context.errorLogPath} (also in ${table}).`,
  ];
}

/**
 * The report `goal-backfill run` prints to stdout: the summary block (its shape is fixed), then
 * the invalid items and skipped sessions by reason, the run, and where the failures are.
 */
export function renderRunSummary(result: BackfillResult, context: RunSummaryContext): string {
  const lines = [
    ...banner(`GOAL MIGRATION SUMMARY${bannerNote(result)}`),
    `Execution Time: ${(result.elapsedMs / 1000).toFixed(2)} seconds`,
    `Sessions Processed: ${result.sessionsProcessed}`,
    `Sessions with Action Items: ${result.sessionsWithActionItems}`,
    `Goals Created: ${result.goalsCreated}`,
    `Goals Skipped (Duplicate): ${result.duplicatesSkipped}`,
    `Goals Skipped (Invalid): ${result.invalidSkipped}`,
    `Errors Encountered: ${result.errors}`,
    SUMMARY_RULE,
    'Invalid items by reason:',
    ...renderCountBreakdown(result.invalidByReason, INVALID_ITEM_REASONS),
    'Sessions without action items by reason:',
    ...renderCountBreakdown(result.sessionsSkippedByReason, [
      ...SESSION_SKIP_REASONS,
      ...UNPLACED_SESSION_REASONS,
    ]),
    ...runLines(result),
    ...failureLines(result, context),
  ];
  return `${lines.join('\n')}\n`;
}

/** The object `goal-backfill run --json` prints: counts, ids and flags, never failure details. */
export interface RunSummaryJson {
  runId: string | null;
  outcome: BackfillResult['outcome'];
  dryRun: boolean;
  resumed: boolean;
  totalSessions: number;
  sessionsProcessed: number;
  sessionsWithActionItems: number;
  sessionsSkippedByReason: BackfillResult['sessionsSkippedByReason'];
  itemsSeen: number;
  goalsCreated: number;
  duplicatesSkipped: number;
  invalidSkipped: number;
  invalidByReason: BackfillResult['invalidByReason'];
  errors: number;
  itemsInFailedSessions: number;
  elapsedMs: number;
  /** The `--error-log` file, or null. */
  errorLog: string | null;
}

/** The summary as {@link RunSummaryJson}, fields picked one by one. */
export function toRunSummaryJson(
  result: BackfillResult,
  errorLogPath: string | null,
): RunSummaryJson {
  return {
    runId: result.runId,
    outcome: result.outcome,
    dryRun: result.dryRun,
    resumed: result.resumed,
    totalSessions: result.totalSessions,
    sessionsProcessed: result.sessionsProcessed,
    sessionsWithActionItems: result.sessionsWithActionItems,
    sessionsSkippedByReason: result.sessionsSkippedByReason,
    itemsSeen: result.itemsSeen,
    goalsCreated: result.goalsCreated,
    duplicatesSkipped: result.duplicatesSkipped,
    invalidSkipped: result.invalidSkipped,
    invalidByReason: result.invalidByReason,
    errors: result.errors,
    itemsInFailedSessions: result.itemsInFailedSessions,
    elapsedMs: result.elapsedMs,
    errorLog: errorLogPath,
  };
}

/** One line of JSON, for stdout. */
export function renderRunSummaryJson(result: BackfillResult, errorLogPath: string | null): string {
  return jsonLine(toRunSummaryJson(result, errorLogPath));
}

/**
 * The line of the `--error-log` file written for a failed session: its ids, the SQLSTATE and a
 * message free of row values. Fields are picked one by one, so nothing else leaks.
 */
export function errorLogLine(failure: SessionFailure): string {
  return jsonLine({
    sessionId: failure.sessionId,
    patientId: failure.patientId,
    sqlState: failure.sqlState,
    message: failure.message,
  } satisfies SessionFailure);
}

/** The deepest chain of causes a trace follows. */
const MAX_CAUSES = 5;

/**
 * A V8 stack frame as Node writes it: `    at fn (file:line:col)`, `    at file:line:col`,
 * `    at fn (node:internal/…:line:col)` or `(native)` / `(<anonymous>)`.
 */
const FRAME = /^ {4}at (?:[^()]+ \()?[^()]*(?::\d+:\d+|native|<anonymous>)\)?$/;

/** Every line of every string the error carries: its message and the server's fields. */
function textLines(err: object): Set<string> {
  const lines = new Set<string>();
  for (const value of Object.values(err)) {
    if (typeof value === 'string') for (const line of value.split('\n')) lines.add(line.trim());
  }
  if (err instanceof Error) for (const line of err.message.split('\n')) lines.add(line.trim());
  return lines;
}

/**
 * The `at …` lines of an error's stack. The stack opens with the message, which a server can
 * write over several lines that look like frames (`    at <row value>`), so a line is kept only
 * when it has a frame's shape and is no line of the message or of any other text field.
 */
function stackFrames(err: unknown): string[] {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return [];
  const text = textLines(err);
  return err.stack.split('\n').filter((line) => FRAME.test(line) && !text.has(line.trim()));
}

/**
 * The stack traces of an error and its causes, for `--verbose`. Every message is rebuilt by
 * describeErrorSafely, so a database error's text (which can quote row values) never appears.
 */
export function renderFailureTrace(err: unknown): string[] {
  const lines: string[] = [...stackFrames(err)];
  let cause = err instanceof Error ? err.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < MAX_CAUSES; depth += 1) {
    const safe = describeErrorSafely(cause);
    lines.push(`caused by: ${safe.message}${safe.code ? ` [${safe.code}]` : ''}`);
    lines.push(...stackFrames(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return lines;
}

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
    ...banner('GOAL BACKFILL STATUS'),
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
  return jsonLine({
    goals: status.goals,
    lockHolder: status.lockHolder,
    resumableRun: status.resumableRun,
    knexMigrationLockStuck: status.knexMigrationLockStuck,
    recentRuns: status.recentRuns,
  });
}

/** The report `goal-backfill rollback` prints to stdout. */
export function renderRollbackReport(result: RollbackResult): string {
  const lines = [
    ...banner(`GOAL ROLLBACK SUMMARY${result.dryRun ? ' (DRY RUN: nothing was deleted)' : ''}`),
    `Execution Time: ${(result.elapsedMs / 1000).toFixed(2)} seconds`,
    result.dryRun
      ? `Goals That Would Be Deleted: ${result.deleted}`
      : `Goals Deleted: ${result.deleted}`,
    `Goals Kept (Changed by Clinicians): ${result.keptChanged}`,
    `Goals Kept (Entered by Clinicians): ${result.keptClinician}`,
    ...(result.dryRun ? [] : [`Checkpoints Dropped: ${result.checkpointsAbandoned}`]),
    SUMMARY_RULE,
  ];
  if (result.includeChanged) {
    lines.push(
      '--include-changed: backfilled goals that clinicians changed were counted with the deleted.',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `goal-backfill rollback --json`: the rollback's result as one line of JSON. */
export function renderRollbackJson(result: RollbackResult): string {
  return jsonLine({
    dryRun: result.dryRun,
    includeChanged: result.includeChanged,
    deleted: result.deleted,
    keptChanged: result.keptChanged,
    keptClinician: result.keptClinician,
    checkpointsAbandoned: result.checkpointsAbandoned,
    elapsedMs: result.elapsedMs,
  });
}

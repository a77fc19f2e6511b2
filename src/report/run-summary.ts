import type { BackfillResult } from '../backfill/backfill-result';
import {
  INVALID_ITEM_REASONS,
  SESSION_SKIP_REASONS,
  UNPLACED_SESSION_REASONS,
} from '../bookkeeping/count-reasons';
import { renderCountBreakdown } from './count-breakdown';

/** The rule above and below the summary: 70 `=`. */
export const SUMMARY_RULE = '='.repeat(70);

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
    return ['Dry run: nothing was written, and dry runs are not recorded in goal_backfill_runs.'];
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
  const table = `table goal_backfill_failures for run ${result.runId ?? '(none)'}`;
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
    SUMMARY_RULE,
    `GOAL MIGRATION SUMMARY${bannerNote(result)}`,
    SUMMARY_RULE,
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

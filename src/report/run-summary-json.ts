import type { BackfillResult } from '../backfill/backfill-result';

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
  return `${JSON.stringify(toRunSummaryJson(result, errorLogPath))}\n`;
}

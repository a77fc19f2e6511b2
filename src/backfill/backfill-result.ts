import type { BackfillCounts } from '../bookkeeping/backfill-counts';
import type { SessionFailure } from '../bookkeeping/failure-store';

/** How many failed sessions a result lists; all of them are in goal_backfill_failures. */
export const MAX_LISTED_FAILURES = 100;

/** What {@link runBackfill} returns. */
export interface BackfillResult extends BackfillCounts {
  /** The goal_backfill_runs row, or null for a dry run. */
  runId: string | null;
  dryRun: boolean;
  /** This run continued an interrupted run; the counts include that run's pages. */
  resumed: boolean;
  /** `completed` read every session; `interrupted` stopped early on the abort signal. */
  outcome: 'completed' | 'interrupted';
  /** Sessions in the table when the run started. */
  totalSessions: number;
  /** Wall time of this invocation. */
  elapsedMs: number;
  /** The first failed sessions, at most {@link MAX_LISTED_FAILURES}. */
  failures: SessionFailure[];
}

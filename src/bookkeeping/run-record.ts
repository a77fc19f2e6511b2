import type { BackfillCounts } from '../backfill/backfill-counts';
import type { ReadPass } from '../backfill/read-window';
import type { SessionKey } from '../backfill/session-key';

/** Who started a run. */
export const INVOKERS = ['migration', 'cli', 'seed', 'library'] as const;
export type Invoker = (typeof INVOKERS)[number];

/**
 * Where a run stands.
 * - `running`: working now, or killed without a chance to say so (then no one holds the lock);
 * - `interrupted`: stopped on purpose or by an error, with its checkpoint kept for a resume;
 * - `succeeded`, `completed_with_errors`: finished; the checkpoint is cleared;
 * - `abandoned`: a checkpoint set aside by `--from-start`.
 */
export const RUN_STATUSES = [
  'running',
  'interrupted',
  'succeeded',
  'completed_with_errors',
  'abandoned',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One row of goal_backfill_runs, as the library sees it. */
export interface RunRecord {
  id: string;
  invokedBy: Invoker;
  status: RunStatus;
  runner: string | null;
  batchSize: number;
  startedAt: string;
  heartbeatAt: string | null;
  finishedAt: string | null;
  resumeCount: number;
  /** The last session read by the current pass, or null when the pass has read none yet. */
  checkpoint: SessionKey | null;
  /** The pass the run is in, while it is unfinished. */
  pass: ReadPass | null;
  counts: BackfillCounts;
  elapsedMs: number;
  errorCode: string | null;
  errorMessage: string | null;
}

import type { Invoker, RunStatus } from '../schema/run-vocabulary';
import type { BackfillCounts } from './backfill-counts';
import type { ReadPass } from './read-window';
import type { SessionKey } from './session-key';

/** One row of goal_backfill_runs, as the library sees it. */
export interface RunRecord {
  id: string;
  invokedBy: Invoker;
  status: RunStatus;
  runner: string | null;
  batchSize: number;
  /** ISO 8601 in UTC, e.g. `2026-11-24T01:32:46.818Z`, as are the two below. */
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

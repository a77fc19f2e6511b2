/** The vocabulary of goal_backfill_runs that the schema's checks enforce. */

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

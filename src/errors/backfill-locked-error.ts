import { GoalBackfillError } from './goal-backfill-error';

/** What is known about the holder of the backfill lock. */
export interface LockHolder {
  pid: number | null;
  applicationName: string | null;
  runId: string | null;
  invokedBy: string | null;
  runner: string | null;
  startedAt: string | null;
}

function describeHolder(holder: LockHolder): string {
  const parts: string[] = [];
  if (holder.invokedBy) parts.push(`a ${holder.invokedBy} run`);
  if (holder.runId) parts.push(`run ${holder.runId}`);
  if (holder.runner) parts.push(`on ${holder.runner}`);
  if (holder.startedAt) parts.push(`started ${holder.startedAt}`);
  if (holder.pid !== null) parts.push(`backend pid ${holder.pid}`);
  if (holder.applicationName) parts.push(`application ${holder.applicationName}`);
  return parts.length > 0 ? parts.join(', ') : 'an unknown session';
}

/** Another backfill or rollback holds the advisory lock, and the wait for it ran out. */
export class BackfillLockedError extends GoalBackfillError {
  readonly code = 'LOCKED';

  constructor(
    readonly holder: LockHolder,
    readonly waitedMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `another goal backfill holds the lock (${describeHolder(holder)}); waited ${waitedMs} ms. ` +
        'Let it finish, or check it with `goal-backfill status`',
      options,
    );
  }
}

import type { SqlRunner } from '../db/connection';
import { toCount } from '../db/connection';
import { describeErrorSafely } from '../db/safe-error';
import type { Logger } from '../logging/logger';

/** Why a run waited longer than its fixed throttle after a page. */
export type BackOffReason = 'lock_waiters' | 'replication_lag' | 'health_query';

/** How a run notices that the database is under strain, and how long it then waits. */
export interface StrainSettings {
  /** Milliseconds to wait after a page that app queries waited on, or while replicas lag; 0 for never. */
  backoffMs: number;
  /** Replay lag of the server's replicas above which the run waits `backoffMs`; 0 for no check. */
  maxReplicationLagMs: number;
  /** SQL whose first column of its first row is how many milliseconds to wait; null for none. */
  healthQuery: string | null;
}

/** The longest wait one health query may ask for, so a wrong answer cannot stall a run for days. */
export const MAX_HEALTH_DELAY_MS = 600_000;

/**
 * SQL answering how many milliseconds to wait when the replay lag of the replicas listed in
 * `source` (`pg_stat_replication`, or a view of the same shape) is above `maxLagMs`: `backoffMs`,
 * else 0. The lag is NULL for a role that may not see it, which counts as none.
 */
export function replicationLagSql(source: string, maxLagMs: number, backoffMs: number): string {
  const lagMs = `coalesce(max(extract(epoch FROM replay_lag) * 1000), 0)`;
  return `SELECT CASE WHEN ${lagMs} > ${Math.trunc(maxLagMs)} THEN ${Math.trunc(backoffMs)} ELSE 0 END AS delay_ms,
                 ${lagMs} AS lag_ms
            FROM ${source}`;
}

/**
 * SQL counting the other backends that wait, right now, on a lock this connection holds: app
 * queries held up by the rows the page wrote or locked. Run inside the page's transaction,
 * just before it commits.
 */
export const LOCK_WAITERS_SQL = `SELECT count(*) AS waiters FROM pg_stat_activity
  WHERE pid <> pg_backend_pid() AND pg_backend_pid() = ANY(pg_blocking_pids(pid))`;

/** Counts the backends waiting on this connection's locks (see {@link LOCK_WAITERS_SQL}). */
export async function countLockWaiters(db: SqlRunner): Promise<number> {
  const [row] = await db.rows<{ waiters: unknown }>(LOCK_WAITERS_SQL);
  return toCount(row?.waiters);
}

/** One back-off: its reason, the wait it asks for, and the measure that set it off. */
export interface BackOff {
  reason: BackOffReason;
  delayMs: number;
  /** Waiting backends, replay lag in ms, or the health query's answer. */
  measured: number;
}

/**
 * The back-offs the signals ask for after a page. `lockWaiters` is what the page counted
 * before it committed. A health query that fails is logged with its SQLSTATE and asks for no
 * wait, so a broken query never stops the backfill.
 */
export async function strainBackOffs(
  db: SqlRunner,
  settings: StrainSettings,
  lockWaiters: number,
  logger: Logger,
): Promise<BackOff[]> {
  const backOffs: BackOff[] = [];
  if (settings.backoffMs > 0 && lockWaiters > 0) {
    backOffs.push({ reason: 'lock_waiters', delayMs: settings.backoffMs, measured: lockWaiters });
  }
  if (settings.backoffMs > 0 && settings.maxReplicationLagMs > 0) {
    const [row] = await db.rows<{ delay_ms: unknown; lag_ms: unknown }>(
      replicationLagSql('pg_stat_replication', settings.maxReplicationLagMs, settings.backoffMs),
    );
    const delayMs = toCount(row?.delay_ms);
    if (delayMs > 0) {
      backOffs.push({
        reason: 'replication_lag',
        delayMs,
        measured: Math.round(toCount(row?.lag_ms)),
      });
    }
  }
  if (settings.healthQuery !== null) {
    try {
      const [row] = await db.rows<Record<string, unknown>>(settings.healthQuery);
      const answer = Number(row === undefined ? 0 : Object.values(row)[0]);
      const delayMs = Number.isFinite(answer)
        ? Math.min(Math.max(Math.round(answer), 0), MAX_HEALTH_DELAY_MS)
        : 0;
      if (delayMs > 0) backOffs.push({ reason: 'health_query', delayMs, measured: answer });
    } catch (err) {
      logger.warn('backfill.health_query_failed', { errorCode: describeErrorSafely(err).code });
    }
  }
  return backOffs;
}

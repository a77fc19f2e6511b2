import { type SqlRunner, toCount } from '../db/connection';
import { describeErrorSafely } from '../db/failures';
import type { SessionFailure } from '../errors';
import type { Logger } from '../logging';
import type { BackfillProgress, ResolvedBackfillOptions } from '../options';
import type { PageOutcome } from './page';
import type { BackfillCounts } from './rules';
import { MAX_LISTED_FAILURES } from './store';

/** How a run spaces its pages, to share the database with live traffic. */
export interface ThrottleSettings {
  /** Milliseconds to wait after every page. */
  pauseMs: number;
  /** Sessions per second not to exceed, over the run so far; 0 for no limit. */
  maxSessionsPerSecond: number;
}

/**
 * How long to wait before the next page: the fixed pause, or longer if the run is ahead of
 * its target rate.
 */
export function delayBeforeNextPage(
  throttle: ThrottleSettings,
  sessionsThisRun: number,
  elapsedMs: number,
): number {
  const dueMs =
    throttle.maxSessionsPerSecond > 0
      ? (sessionsThisRun / throttle.maxSessionsPerSecond) * 1000
      : 0;
  return Math.max(throttle.pauseMs, Math.ceil(dueMs - elapsedMs), 0);
}

/** Waits `ms`, or less if `signal` aborts first. */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

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

/** Where a run stands when one of its connections finished a full page. */
export interface PacingPoint {
  runId: string | null;
  pass: number;
  /** Waiters on the page's locks, counted before it committed. */
  lockWaiters: number;
  /** Sessions this invocation has read, every worker together. */
  sessionsThisRun: number;
  elapsedMs: number;
  /** Runs a statement of the strain checks with the connection's retries. */
  retrying: <T>(work: () => Promise<T>, event: string) => Promise<T>;
}

/**
 * Waits before the connection's next page: the longest of the fixed throttle and of the
 * back-offs the strain signals ask for, each of which is logged with its reason. The checks run
 * on `connection.db` as it is at each attempt, so a retry after a reconnect uses the new one.
 */
export async function paceNextPage(
  connection: { readonly db: SqlRunner },
  options: ResolvedBackfillOptions,
  point: PacingPoint,
): Promise<void> {
  const { logger } = options;
  let delayMs = delayBeforeNextPage(options, point.sessionsThisRun, point.elapsedMs);
  const backOffs = await point.retrying(
    () => strainBackOffs(connection.db, options, point.lockWaiters, logger),
    'backfill.strain',
  );
  for (const backOff of backOffs) {
    logger.warn('backfill.backoff', { runId: point.runId, pass: point.pass, ...backOff });
    delayMs = Math.max(delayMs, backOff.delayMs);
  }
  await pause(delayMs, options.signal);
}

/**
 * Tells the world about each page as it completes: failed sessions (logged, collected, and
 * passed to `onSessionFailed`), per-session decisions and page timings at debug level, the
 * `onProgress` callback, and a progress line every `progressEvery` sessions.
 */
export class PageReporter {
  /** The first failed sessions of this invocation, at most {@link MAX_LISTED_FAILURES}. */
  readonly failures: SessionFailure[] = [];
  private pageNumber = 0;
  private nextProgressAt: number;

  constructor(
    private readonly options: ResolvedBackfillOptions,
    private readonly runId: string | null,
    private readonly totalSessions: number,
    sessionsAlreadyProcessed: number,
  ) {
    this.nextProgressAt =
      options.progressEvery > 0 ? sessionsAlreadyProcessed + options.progressEvery : Infinity;
  }

  pageDone(page: PageOutcome, totals: BackfillCounts, pageMs: number, elapsedMs: number): void {
    const { logger } = this.options;
    const { runId } = this;
    this.pageNumber += 1;
    for (const failure of page.failures) {
      logger.warn('backfill.session_failed', {
        runId,
        sessionId: failure.sessionId,
        patientId: failure.patientId,
        sqlState: failure.sqlState,
        reason: failure.message,
      });
      if (this.failures.length < MAX_LISTED_FAILURES) this.failures.push(failure);
      this.options.onSessionFailed?.(failure);
    }
    for (const decision of page.decisions) logger.debug('backfill.session', { ...decision });
    logger.debug('backfill.page', {
      runId,
      page: this.pageNumber,
      sessions: page.counts.sessionsProcessed,
      goalsCreated: page.counts.goalsCreated,
      errors: page.counts.errors,
      durationMs: Math.round(pageMs),
    });
    const progress: BackfillProgress = {
      runId,
      sessionsProcessed: totals.sessionsProcessed,
      totalSessions: this.totalSessions,
      goalsCreated: totals.goalsCreated,
      errors: totals.errors,
      elapsedMs,
    };
    this.options.onProgress?.(progress);
    if (totals.sessionsProcessed >= this.nextProgressAt) {
      logger.info('backfill.progress', { ...progress });
      while (this.nextProgressAt <= totals.sessionsProcessed) {
        this.nextProgressAt += this.options.progressEvery;
      }
    }
  }
}

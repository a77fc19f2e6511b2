import type { BackfillCounts } from '../bookkeeping/backfill-counts';
import type { SessionFailure } from '../bookkeeping/failure-store';
import type { BackfillProgress, ResolvedBackfillOptions } from './backfill-options';
import { MAX_LISTED_FAILURES } from './backfill-result';
import type { PageOutcome } from './page-writer';

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

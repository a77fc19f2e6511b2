import { failureStore, type SessionFailure } from '../bookkeeping/failure-store';
import type { RunRecord } from '../bookkeeping/run-record';
import { runStore } from '../bookkeeping/run-store';
import { acquireBackfillLock, releaseBackfillLock } from '../db/advisory-lock';
import { type PinnedConnection, withPinnedConnection } from '../db/pinned-connection';
import { toCount } from '../db/query-rows';
import { retryTransient } from '../db/retry-transient';
import { describeErrorSafely } from '../db/safe-error';
import { applySessionSettings, resetSessionSettings } from '../db/session-settings';
import { BackfillRunFailedError } from '../errors/backfill-run-failed-error';
import { assertSchemaReady } from '../schema/assert-schema-ready';
import { TABLES } from '../schema/tables';
import { addCounts, type BackfillCounts, emptyCounts } from './backfill-counts';
import {
  type BackfillOptions,
  type ResolvedBackfillOptions,
  resolveBackfillOptions,
} from './backfill-options';
import { type BackfillResult, MAX_LISTED_FAILURES } from './backfill-result';
import { bestEffort } from './best-effort';
import { countPage, type PageOutcome, writePage } from './page-writer';
import type { SessionKey } from './session-key';

async function countSessions(db: PinnedConnection): Promise<number> {
  const [row] = await db.rows<{ n: unknown }>(`SELECT count(*) AS n FROM ${TABLES.sessions}`);
  return toCount(row?.n);
}

async function startOrResume(
  db: PinnedConnection,
  options: ResolvedBackfillOptions,
): Promise<{ run: RunRecord; resumed: boolean }> {
  const { logger } = options;
  if (options.fromStart) {
    const abandoned = await runStore.abandonUnfinished(db);
    if (abandoned > 0) logger.info('backfill.checkpoint_abandoned', { runs: abandoned });
  } else {
    const previous = await runStore.findResumable(db);
    if (previous?.checkpoint) {
      await runStore.resume(db, previous.id, options.runner, options.batchSize);
      return { run: previous, resumed: true };
    }
    // A run that stopped before its first page has nothing to resume; close it and start over.
    if (previous) await runStore.abandonUnfinished(db);
  }
  const run = await runStore.start(db, options);
  return { run, resumed: false };
}

/**
 * Reads every session in pages and writes the goals the rules define. Holds the backfill lock
 * throughout, and (unless a dry run) checkpoints each page with its goals, so a run that is
 * killed resumes where it stopped.
 */
async function backfillUnderLock(
  db: PinnedConnection,
  options: ResolvedBackfillOptions,
  startedAt: number,
): Promise<BackfillResult> {
  const { logger, dryRun, batchSize } = options;
  const elapsedMs = () => Math.round(performance.now() - startedAt);
  const started = dryRun ? null : await startOrResume(db, options);
  const runId = started?.run.id ?? null;
  const resumed = started?.resumed ?? false;
  let cursor: SessionKey | null = started?.run.checkpoint ?? null;
  let counts: BackfillCounts = resumed && started ? started.run.counts : emptyCounts();
  const elapsedBefore = resumed && started ? started.run.elapsedMs : 0;
  const failures: SessionFailure[] = [];
  const totalSessions = await countSessions(db);
  logger.info('backfill.start', { runId, dryRun, resumed, batchSize, totalSessions });

  let nextProgressAt =
    options.progressEvery > 0 ? counts.sessionsProcessed + options.progressEvery : Infinity;
  let pageNumber = 0;
  let outcome: BackfillResult['outcome'] = 'completed';
  try {
    for (;;) {
      if (options.signal?.aborted) {
        outcome = 'interrupted';
        break;
      }
      const pageStarted = performance.now();
      const after = cursor;
      const totalsBefore = counts;
      const page: PageOutcome = await retryTransient(
        () =>
          runId === null
            ? countPage(db, after, batchSize, options.logSessionDecisions)
            : writePage(db, {
                runId,
                after,
                limit: batchSize,
                totalsBefore,
                elapsedMs: () => elapsedBefore + elapsedMs(),
                perSession: options.logSessionDecisions,
              }),
        { maxAttempts: options.maxAttempts, logger, event: 'backfill.page' },
      );
      if (page.lastKey === null) break;
      pageNumber += 1;
      counts = addCounts(counts, page.counts);
      cursor = page.lastKey;
      for (const failure of page.failures) {
        logger.warn('backfill.session_failed', { runId, ...failure });
        if (failures.length < MAX_LISTED_FAILURES) failures.push(failure);
        options.onSessionFailed?.(failure);
      }
      for (const decision of page.decisions) logger.debug('backfill.session', { ...decision });
      logger.debug('backfill.page', {
        runId,
        page: pageNumber,
        sessions: page.counts.sessionsProcessed,
        goalsCreated: page.counts.goalsCreated,
        errors: page.counts.errors,
        durationMs: Math.round(performance.now() - pageStarted),
      });
      const progress = {
        runId,
        sessionsProcessed: counts.sessionsProcessed,
        totalSessions,
        goalsCreated: counts.goalsCreated,
        errors: counts.errors,
        elapsedMs: elapsedMs(),
      };
      options.onProgress?.(progress);
      if (counts.sessionsProcessed >= nextProgressAt) {
        logger.info('backfill.progress', progress);
        while (nextProgressAt <= counts.sessionsProcessed) nextProgressAt += options.progressEvery;
      }
      if (page.counts.sessionsProcessed < batchSize) break;
    }
  } catch (err) {
    const safe = describeErrorSafely(err);
    if (runId !== null) {
      await bestEffort(logger, 'backfill.interrupt_record', () =>
        runStore.interrupt(db, runId, safe),
      );
    }
    throw new BackfillRunFailedError(runId, counts.sessionsProcessed, safe, { cause: err });
  }

  if (runId !== null) {
    if (outcome === 'completed') {
      await runStore.finish(db, runId, { counts, elapsedMs: elapsedBefore + elapsedMs() });
    } else {
      await runStore.interrupt(db, runId, { code: 'ABORTED', message: 'stopped by request' });
    }
    if (resumed && failures.length < MAX_LISTED_FAILURES) {
      // Failures recorded before the resume belong to this run too.
      const recorded = await failureStore.ofRun(db, runId, MAX_LISTED_FAILURES);
      failures.splice(0, failures.length, ...recorded);
    }
  }
  const result: BackfillResult = {
    ...counts,
    runId,
    dryRun,
    resumed,
    outcome,
    totalSessions,
    elapsedMs: elapsedMs(),
    failures,
  };
  logger.info('backfill.finish', {
    runId,
    dryRun,
    resumed,
    outcome,
    sessionsProcessed: result.sessionsProcessed,
    sessionsWithActionItems: result.sessionsWithActionItems,
    goalsCreated: result.goalsCreated,
    duplicatesSkipped: result.duplicatesSkipped,
    invalidSkipped: result.invalidSkipped,
    errors: result.errors,
    elapsedMs: result.elapsedMs,
  });
  return result;
}

/**
 * Backfills treatment_goals from the action items in therapy_sessions.extracted_notes.
 *
 * The caller owns `knex` and `logger`; the backfill borrows one pooled connection, holds the
 * backfill advisory lock on it, and gives it back. It returns its counts rather than throwing
 * when sessions fail: check `errors`. It throws {@link ConfigError} for bad options,
 * {@link SchemaNotReadyError} before the migrations, {@link BackfillLockedError} when another
 * backfill holds the lock, and {@link BackfillRunFailedError} when an error stops the run
 * (its checkpoint is kept).
 */
export async function runBackfill(options: BackfillOptions): Promise<BackfillResult> {
  const resolved = resolveBackfillOptions(options);
  const { logger } = resolved;
  const startedAt = performance.now();
  return withPinnedConnection(resolved.knex, async (db) => {
    await assertSchemaReady(db);
    await applySessionSettings(db, {
      statementTimeoutMs: resolved.statementTimeoutMs,
      lockTimeoutMs: resolved.lockTimeoutMs,
      applicationName: `goal-backfill ${resolved.invokedBy}`,
    });
    try {
      await acquireBackfillLock(db, {
        waitMs: resolved.lockWaitMs,
        signal: resolved.signal,
        describeHolder: async () => {
          const run = await runStore.findRunning(db);
          return {
            runId: run?.id ?? null,
            invokedBy: run?.invokedBy ?? null,
            runner: run?.runner ?? null,
            startedAt: run?.startedAt ?? null,
          };
        },
      });
      try {
        return await backfillUnderLock(db, resolved, startedAt);
      } finally {
        await bestEffort(logger, 'backfill.lock_release', () => releaseBackfillLock(db));
      }
    } finally {
      await bestEffort(logger, 'backfill.session_reset', () => resetSessionSettings(db));
    }
  });
}

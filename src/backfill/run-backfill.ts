import { describeLockHolderRun } from '../bookkeeping/describe-lock-holder';
import { failureStore } from '../bookkeeping/failure-store';
import { runStore } from '../bookkeeping/run-store';
import { startOrResume } from '../bookkeeping/start-or-resume';
import { describeDatabase } from '../config/describe-database';
import { LockedConnection } from '../db/locked-connection';
import type { PinnedConnection } from '../db/pinned-connection';
import { toCount } from '../db/query-rows';
import { retryTransient } from '../db/retry-transient';
import { describeErrorSafely } from '../db/safe-error';
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
import { PageReporter } from './page-reporter';
import type { SessionKey } from './session-key';
import { delayBeforeNextPage, pause } from './throttle';

async function countSessions(db: PinnedConnection): Promise<number> {
  const [row] = await db.rows<{ n: unknown }>(`SELECT count(*) AS n FROM ${TABLES.sessions}`);
  return toCount(row?.n);
}

/** Where the run stands: what the next page continues from. */
interface RunPosition {
  cursor: SessionKey | null;
  counts: BackfillCounts;
}

/**
 * Reads every session in pages and writes the goals the rules define, holding the backfill
 * lock throughout. Unless a dry run, each page commits with its checkpoint, so a run that is
 * killed resumes where it stopped, and a run whose connection drops reconnects, reloads its
 * checkpoint and goes on.
 */
async function backfillUnderLock(
  connection: LockedConnection,
  options: ResolvedBackfillOptions,
  startedAt: number,
): Promise<BackfillResult> {
  const { logger, dryRun, batchSize } = options;
  const elapsedMs = () => Math.round(performance.now() - startedAt);
  const started = dryRun ? null : await startOrResume(connection.db, options);
  const runId = started?.run.id ?? null;
  const resumed = started?.resumed ?? false;
  const position: RunPosition = {
    cursor: started?.run.checkpoint ?? null,
    counts: resumed && started ? started.run.counts : emptyCounts(),
  };
  const elapsedBefore = resumed && started ? started.run.elapsedMs : 0;
  const totalSessions = await countSessions(connection.db);
  logger.info('backfill.start', {
    runId,
    dryRun,
    resumed,
    batchSize,
    totalSessions,
    database: describeDatabase(options.knex),
  });

  const reporter = new PageReporter(
    options,
    runId,
    totalSessions,
    position.counts.sessionsProcessed,
  );
  const { failures } = reporter;
  const reconnect = async () => {
    await connection.reopen();
    const saved = runId === null ? null : await runStore.get(connection.db, runId);
    if (saved) Object.assign(position, { cursor: saved.checkpoint, counts: saved.counts });
    logger.warn('backfill.reconnected', {
      runId,
      sessionsProcessed: position.counts.sessionsProcessed,
    });
  };
  const nextPage = (): Promise<PageOutcome> => {
    const { cursor: after, counts: totalsBefore } = position;
    return runId === null
      ? countPage(connection.db, after, batchSize, options.logSessionDecisions)
      : writePage(connection.db, {
          runId,
          after,
          limit: batchSize,
          totalsBefore,
          elapsedMs: () => elapsedBefore + elapsedMs(),
          perSession: options.logSessionDecisions,
        });
  };

  let sessionsThisRun = 0;
  let outcome: BackfillResult['outcome'] = 'completed';
  try {
    for (;;) {
      if (options.signal?.aborted) {
        outcome = 'interrupted';
        break;
      }
      const pageStarted = performance.now();
      const page = await retryTransient(nextPage, {
        maxAttempts: options.maxAttempts,
        logger,
        event: 'backfill.page',
        reconnect,
      });
      if (page.lastKey === null) break;
      position.counts = addCounts(position.counts, page.counts);
      position.cursor = page.lastKey;
      reporter.pageDone(page, position.counts, performance.now() - pageStarted, elapsedMs());
      if (page.counts.sessionsProcessed < batchSize) break;
      sessionsThisRun += page.counts.sessionsProcessed;
      await pause(delayBeforeNextPage(options, sessionsThisRun, elapsedMs()), options.signal);
    }
  } catch (err) {
    const safe = describeErrorSafely(err);
    if (runId !== null) {
      await bestEffort(logger, 'backfill.interrupt_record', () =>
        runStore.interrupt(connection.db, runId, safe),
      );
    }
    logger.error('backfill.stopped', {
      runId,
      sessionsProcessed: position.counts.sessionsProcessed,
      errorCode: safe.code,
      reason: safe.message,
    });
    throw new BackfillRunFailedError(runId, position.counts.sessionsProcessed, safe, {
      cause: err,
    });
  }

  const { counts } = position;
  if (runId !== null) {
    if (outcome === 'completed') {
      await runStore.finish(connection.db, runId, {
        counts,
        elapsedMs: elapsedBefore + elapsedMs(),
      });
    } else {
      await runStore.interrupt(connection.db, runId, {
        code: 'ABORTED',
        message: 'stopped by request',
      });
    }
    if (resumed || counts.errors > failures.length) {
      // Failures recorded before a resume or a reconnect belong to this run too.
      failures.splice(
        0,
        failures.length,
        ...(await failureStore.ofRun(connection.db, runId, MAX_LISTED_FAILURES)),
      );
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
  const startedAt = performance.now();
  const connection = await LockedConnection.open(resolved.knex, {
    logger: resolved.logger,
    beforeLock: assertSchemaReady,
    settings: {
      statementTimeoutMs: resolved.statementTimeoutMs,
      lockTimeoutMs: resolved.lockTimeoutMs,
      applicationName: `goal-backfill ${resolved.invokedBy}`,
    },
    lock: {
      waitMs: resolved.lockWaitMs,
      signal: resolved.signal,
      describeHolder: describeLockHolderRun,
    },
  });
  try {
    return await backfillUnderLock(connection, resolved, startedAt);
  } finally {
    await connection.close();
  }
}

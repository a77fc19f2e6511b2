import { describeLockHolderRun } from '../bookkeeping/describe-lock-holder';
import { failureStore } from '../bookkeeping/failure-store';
import { runStore } from '../bookkeeping/run-store';
import { startOrResume } from './start-or-resume';
import { describeDatabase } from '../config/describe-database';
import { LockedConnection } from '../db/locked-connection';
import { retryTransient } from '../db/retry-transient';
import { describeErrorSafely } from '../db/safe-error';
import { BackfillRunFailedError } from '../errors/backfill-run-failed-error';
import { BackfillUnverifiedError, type PassShortfall } from '../errors/backfill-unverified-error';
import { assertSchemaReady } from '../schema/assert-schema-ready';
import { readGoalTableMapping } from '../schema/goal-table';
import { addCounts, type BackfillCounts, emptyCounts } from '../bookkeeping/backfill-counts';
import {
  type BackfillOptions,
  type ResolvedBackfillOptions,
  resolveBackfillOptions,
} from './backfill-options';
import { type BackfillResult, MAX_LISTED_FAILURES } from './backfill-result';
import { bestEffort } from '../db/best-effort';
import { countPage, type PageOutcome, writePage } from './page-writer';
import { PageReporter } from './page-reporter';
import {
  checkPass,
  countSessions,
  keyNullCounts,
  type PassCheck,
  shortfallOfRun,
} from './pass-census';
import { claimChanges, type ReadPass } from '../bookkeeping/read-window';
import { inSchema } from '../db/schema-scope';
import { sqlRunner } from '../db/sql-runner';
import {
  changeCaptureActive,
  startChangeCapture,
  stopChangeCapture,
} from '../schema/session-change-capture';
import type { SessionKey } from '../bookkeeping/session-key';
import { paceNextPage } from './page-pacing';
import { laneBoundaries } from './lane-boundaries';
import { readSplitPass } from './lane-reader';
import { lanesAt } from '../bookkeeping/patient-lane';
import type { SessionSettings } from '../db/session-settings';
import { assertPoolAllowsWorkers } from './pool-capacity';

/** How many catch-up passes a run makes at most, after its first pass. */
const MAX_CATCH_UP_PASSES = 5;

/** Where the run stands: the pass it is in and what the next page continues from. */
interface RunPosition {
  pass: ReadPass;
  cursor: SessionKey | null;
  counts: BackfillCounts;
}

/**
 * Reads every session in pages and writes the goals the rules define, holding the backfill
 * lock throughout. Unless a dry run, each page commits with its checkpoint, so a run that is
 * killed resumes where it stopped, and a run whose connection drops reconnects, reloads its
 * checkpoint and goes on. The first pass reads what existed at the start; catch-up passes then
 * read what was written meanwhile, until one finds nothing. After each pass the reads are
 * checked against the table, and a shortfall ends the run with {@link BackfillUnverifiedError}.
 */
async function backfillUnderLock(
  connection: LockedConnection,
  settings: SessionSettings,
  options: ResolvedBackfillOptions,
  startedAt: number,
): Promise<BackfillResult> {
  const { logger, dryRun, batchSize } = options;
  const elapsedMs = () => Math.round(performance.now() - startedAt);
  let started: Awaited<ReturnType<typeof startOrResume>> | null = null;
  if (!dryRun) {
    // Capture must have run since a run's start for its resume to trust the change records.
    const wasCapturing = await changeCaptureActive(connection.db);
    await startChangeCapture(connection.db, {
      lockTimeoutMs: options.lockTimeoutMs,
      signal: options.signal,
    });
    started = await startOrResume(connection.db, options, { canResume: wasCapturing });
  }
  const runId = started?.run.id ?? null;
  const table = await readGoalTableMapping(connection.db);
  const resumed = started?.resumed ?? false;
  const totalSessions = await countSessions(connection.db);
  const position: RunPosition = {
    pass: started?.run.pass ?? { number: 0, captured: !dryRun, processedBefore: 0 },
    cursor: started?.run.checkpoint ?? null,
    counts: resumed && started ? started.run.counts : emptyCounts(),
  };
  if (!started?.run.pass && options.workers > 1) {
    const boundaries = await laneBoundaries(connection.db, options.workers, totalSessions);
    position.pass.split = {
      countsBefore: position.counts,
      lanes: lanesAt(boundaries, emptyCounts),
    };
  }
  if (runId !== null && !started?.run.pass) {
    await runStore.beginPass(connection.db, runId, position);
  }
  const elapsedBefore = resumed && started ? started.run.elapsedMs : 0;
  logger.info('backfill.start', {
    runId,
    dryRun,
    resumed,
    batchSize,
    workers: options.workers,
    lanes: position.pass.split?.lanes.length ?? null,
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
    if (saved?.pass) {
      Object.assign(position, { pass: saved.pass, cursor: saved.checkpoint, counts: saved.counts });
    }
    logger.warn('backfill.reconnected', {
      runId,
      sessionsProcessed: position.counts.sessionsProcessed,
    });
  };
  const retrying = <T>(work: () => Promise<T>, event: string) =>
    retryTransient(work, { maxAttempts: options.maxAttempts, logger, event, reconnect });
  const nextPage = (): Promise<PageOutcome> => {
    const { cursor: after, counts: totalsBefore, pass: window } = position;
    const selection = { after, limit: batchSize, window, lane: null, table };
    return runId === null
      ? countPage(connection.db, selection, options.logSessionDecisions)
      : writePage(connection.db, {
          ...selection,
          runId,
          perSession: options.logSessionDecisions,
          saveProgress: (db, pageCounts, lastKey) =>
            runStore.checkpoint(db, runId, {
              counts: addCounts(totalsBefore, pageCounts),
              cursor: lastKey,
              elapsedMs: elapsedBefore + elapsedMs(),
            }),
        });
  };

  const pacing = { sessionsThisRun: 0 };
  let outcome: BackfillResult['outcome'] = 'completed';
  let shortfall: PassShortfall | null = null;
  try {
    passes: for (;;) {
      const { split } = position.pass;
      if (split) {
        const read = await readSplitPass({
          options,
          runId,
          table,
          pass: { ...position.pass, split },
          connection,
          settings,
          reporter,
          elapsedMs,
          runElapsedMs: () => elapsedBefore + elapsedMs(),
          pacing,
          onCounts: (counts) => {
            position.counts = counts;
          },
        });
        if (read === 'interrupted') {
          outcome = 'interrupted';
          break;
        }
      }
      while (!split) {
        if (options.signal?.aborted) {
          outcome = 'interrupted';
          break passes;
        }
        const pageStarted = performance.now();
        const page = await retrying(nextPage, 'backfill.page');
        if (page.lastKey === null) break;
        position.counts = addCounts(position.counts, page.counts);
        position.cursor = page.lastKey;
        reporter.pageDone(page, position.counts, performance.now() - pageStarted, elapsedMs());
        if (page.counts.sessionsProcessed < batchSize) break;
        pacing.sessionsThisRun += page.counts.sessionsProcessed;
        await paceNextPage(connection, options, {
          runId,
          pass: position.pass.number,
          lockWaiters: page.lockWaiters,
          sessionsThisRun: pacing.sessionsThisRun,
          elapsedMs: elapsedMs(),
          retrying,
        });
      }
      const { pass } = position;
      const check: PassCheck = await retrying(
        () => checkPass(connection.db, pass, pass.split?.lanes ?? position.cursor, position.counts),
        'backfill.census',
      );
      const { census, read } = check;
      shortfall = check.shortfall;
      if (shortfall !== null) break;
      // Fewer in the window than were read: some were written again or deleted after being read.
      if (census.placed < read) {
        logger.warn('backfill.sessions_changed', { runId, pass: pass.number, read, ...census });
      }
      position.counts = addCounts(position.counts, keyNullCounts(census.keyNull));
      logger.info('backfill.pass_done', { runId, pass: pass.number, read, ...census });
      if (runId === null) break;
      if (pass.number >= MAX_CATCH_UP_PASSES) {
        logger.warn('backfill.catch_up_unsettled', { runId, passes: pass.number, read });
        shortfall = await retrying(
          () => shortfallOfRun(connection.db, position.counts),
          'backfill.census',
        );
        break;
      }
      const next: ReadPass = {
        number: pass.number + 1,
        captured: true,
        processedBefore: position.counts.sessionsProcessed,
      };
      const claimed = await retrying(
        () =>
          connection.db.transaction(async (trx) => {
            const db = sqlRunner(trx);
            const changes = await claimChanges(db, next.number);
            if (changes > 0) {
              await runStore.beginPass(db, runId, { ...position, pass: next, cursor: null });
            }
            return changes;
          }),
        'backfill.claim',
      );
      if (claimed === 0) {
        // Nothing written since the last claim: the next pass would read nothing.
        logger.info('backfill.pass_done', {
          runId,
          pass: next.number,
          read: 0,
          placed: 0,
          beyond: 0,
          keyNull: 0,
        });
        shortfall = await retrying(
          () => shortfallOfRun(connection.db, position.counts),
          'backfill.census',
        );
        break;
      }
      position.pass = next;
      position.cursor = null;
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
  if (shortfall !== null) {
    const error = new BackfillUnverifiedError(runId, shortfall);
    logger.error('backfill.unverified', { runId, ...shortfall });
    if (runId !== null) {
      // The next run starts over, with change records of its own.
      await stopCapture(connection, options);
      await runStore.unverified(connection.db, runId, {
        counts,
        elapsedMs: elapsedBefore + elapsedMs(),
        code: error.code,
        message: error.message,
      });
    }
    throw error;
  }
  if (runId !== null) {
    if (outcome === 'completed') {
      await stopCapture(connection, options);
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

/** Stops change capture after a run; a trigger the app's writes kept locked stays as a no-op. */
async function stopCapture(connection: LockedConnection, options: ResolvedBackfillOptions) {
  const dropped = await stopChangeCapture(connection.db, options.lockTimeoutMs);
  if (!dropped) options.logger.warn('backfill.capture_trigger_kept', { reason: 'lock_timeout' });
}

/**
 * Backfills treatment_goals from the action items in therapy_sessions.extracted_notes.
 *
 * The caller owns `knex` and `logger`; the backfill borrows one pooled connection, holds the
 * backfill advisory lock on it, and gives it back. It returns its counts rather than throwing
 * when sessions fail: check `errors`. With `schema`, every name resolves in that schema (see
 * {@link BackfillOptions.schema}). It throws {@link ConfigError} for bad options or a schema
 * that does not exist, {@link SchemaNotReadyError} (naming the schema it looked in) before the
 * migrations, {@link BackfillLockedError} when another
 * backfill holds the lock, and {@link BackfillRunFailedError} when an error stops the run
 * (its checkpoint is kept).
 */
export async function runBackfill(options: BackfillOptions): Promise<BackfillResult> {
  const resolved = resolveBackfillOptions(options);
  return inSchema(resolved.knex, resolved.schema, (knex) => backfill({ ...resolved, knex }));
}

/** {@link runBackfill} on a Knex whose connections resolve names where the run works. */
async function backfill(resolved: ResolvedBackfillOptions): Promise<BackfillResult> {
  const startedAt = performance.now();
  assertPoolAllowsWorkers(resolved.knex, resolved.workers);
  const settings: SessionSettings = {
    statementTimeoutMs: resolved.statementTimeoutMs,
    lockTimeoutMs: resolved.lockTimeoutMs,
    applicationName: `goal-backfill ${resolved.invokedBy}`,
  };
  const connection = await LockedConnection.open(resolved.knex, {
    logger: resolved.logger,
    beforeLock: assertSchemaReady,
    settings,
    lock: {
      waitMs: resolved.lockWaitMs,
      signal: resolved.signal,
      describeHolder: describeLockHolderRun,
    },
  });
  try {
    return await backfillUnderLock(connection, settings, resolved, startedAt);
  } finally {
    await connection.close();
  }
}

import type { Knex } from 'knex';
import { describeDatabase } from '../config/knex';
import { RunConnection, type SessionSettings, sqlRunner } from '../db/connection';
import { bestEffort, describeErrorSafely, retryTransient } from '../db/failures';
import { inSchema } from '../db/schema-scope';
import {
  BackfillRunFailedError,
  BackfillUnverifiedError,
  ConfigError,
  type PassShortfall,
} from '../errors';
import {
  type BackfillOptions,
  type ResolvedBackfillOptions,
  resolveBackfillOptions,
} from '../options';
import { assertSchemaReady } from '../schema/app-tables';
import {
  changeCaptureActive,
  refreshGoalBaseline,
  startChangeCapture,
  stopChangeCapture,
} from '../schema/change-tracking';
import { type GoalTableMapping, readGoalTableMapping } from '../schema/goal-table';
import { checkPass, countSessions, keyNullCounts, shortfallOfRun } from './census';
import { readPass } from './lanes';
import { PageReporter } from './pacing';
import {
  claimChanges,
  countsOfSplit,
  type LaneSplit,
  laneBoundaries,
  lanesAt,
  type ReadPass,
  readsAsSplit,
} from './reading';
import { addCounts, type BackfillCounts, emptyCounts } from './rules';
import {
  type BackfillResult,
  describeLockHolderRun,
  failureStore,
  MAX_LISTED_FAILURES,
  runStore,
  startOrResume,
} from './store';

/** How many catch-up passes a run makes at most, after its first pass. */
const MAX_CATCH_UP_PASSES = 5;

/** A pass of a run, with its lanes. */
type LanedPass = ReadPass & { split: LaneSplit };

/** One invocation of a run under the lock: what it set up, and where it stands. */
interface Run {
  connection: RunConnection;
  settings: SessionSettings;
  options: ResolvedBackfillOptions;
  /** The goal_backfill_runs row, or null for a dry run. */
  runId: string | null;
  resumed: boolean;
  table: GoalTableMapping;
  totalSessions: number;
  reporter: PageReporter;
  /** Milliseconds since this invocation started. */
  elapsedMs: () => number;
  /** Milliseconds the run has worked, earlier invocations included. */
  runElapsedMs: () => number;
  pacing: { sessionsThisRun: number };
  /** The pass being read. */
  pass: LanedPass;
  /** The run's counts so far. */
  counts: BackfillCounts;
}

/** How the passes ended: read to the end or stopped by the signal, and any shortfall found. */
interface PassesEnd {
  outcome: BackfillResult['outcome'];
  shortfall: PassShortfall | null;
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
  const connection = await RunConnection.open(resolved.knex, {
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

/**
 * Reads every session in pages and writes the goals the rules define, holding the backfill
 * lock throughout. Unless a dry run, each page commits with its checkpoint, so a run that is
 * killed resumes where it stopped, and a run whose connection drops reconnects, reloads its
 * checkpoint and goes on. The first pass reads what existed at the start; catch-up passes then
 * read what was written meanwhile, until one finds nothing. After each pass the reads are
 * checked against the table, and a shortfall ends the run with {@link BackfillUnverifiedError}.
 */
async function backfillUnderLock(
  connection: RunConnection,
  settings: SessionSettings,
  options: ResolvedBackfillOptions,
  startedAt: number,
): Promise<BackfillResult> {
  const run = await openRun(connection, settings, options, startedAt);
  let end: PassesEnd;
  try {
    end = await readPasses(run);
  } catch (err) {
    return await stopOnError(run, err);
  }
  return finishRun(run, end);
}

/**
 * Starts or resumes the run record (a real run turns change capture on first), and sets up the
 * pass it reads first: the resumed run's, or pass 0 split into lanes for the workers.
 */
async function openRun(
  connection: RunConnection,
  settings: SessionSettings,
  options: ResolvedBackfillOptions,
  startedAt: number,
): Promise<Run> {
  const { logger, dryRun } = options;
  const { db } = connection;
  let started: Awaited<ReturnType<typeof startOrResume>> | null = null;
  if (!dryRun) {
    // Capture must have run since a run's start for its resume to trust the change records.
    const wasCapturing = await changeCaptureActive(db);
    await startChangeCapture(db, { lockTimeoutMs: options.lockTimeoutMs, signal: options.signal });
    started = await startOrResume(db, options, { canResume: wasCapturing });
  }
  const runId = started?.run.id ?? null;
  const resumed = started?.resumed ?? false;
  const table = await readGoalTableMapping(db);
  if (!dryRun) {
    const baseline = await refreshGoalBaseline(db, table);
    if (baseline === 'trigger_replaced') logger.info('backfill.baseline_trigger_replaced', {});
    if (baseline === 'trigger_kept') {
      logger.warn('backfill.baseline_trigger_kept', { reason: 'lock_timeout' });
    }
  }
  const totalSessions = await countSessions(db);
  const saved = started?.run.pass && runId !== null ? await runStore.splitOf(db, runId) : null;
  const pass: LanedPass =
    started?.run.pass && saved
      ? { ...started.run.pass, split: saved }
      : {
          number: 0,
          captured: !dryRun,
          processedBefore: 0,
          split: {
            countsBefore: emptyCounts(),
            lanes: lanesAt(await laneBoundaries(db, options.workers, totalSessions), emptyCounts),
          },
        };
  // A resumed pass is saved again in the one checkpoint form, whichever version saved it.
  if (runId !== null) await runStore.beginPass(db, runId, pass);
  const counts = countsOfSplit(pass.split);
  const elapsedBefore = resumed && started ? started.run.elapsedMs : 0;
  const elapsedMs = () => Math.round(performance.now() - startedAt);
  logger.info('backfill.start', {
    runId,
    dryRun,
    resumed,
    batchSize: options.batchSize,
    workers: options.workers,
    lanes: readsAsSplit(pass.split, options.workers) ? pass.split.lanes.length : null,
    totalSessions,
    database: describeDatabase(options.knex),
  });
  return {
    connection,
    settings,
    options,
    runId,
    resumed,
    table,
    totalSessions,
    reporter: new PageReporter(options, runId, totalSessions, counts.sessionsProcessed),
    elapsedMs,
    runElapsedMs: () => elapsedBefore + elapsedMs(),
    pacing: { sessionsThisRun: 0 },
    pass,
    counts,
  };
}

/**
 * Reads pass after pass, each checked against the table once read, until a claim finds nothing
 * new, the catch-up passes run out, a check falls short or the signal stops the run.
 */
async function readPasses(run: Run): Promise<PassesEnd> {
  for (;;) {
    const read = await readPass({
      ...run,
      onCounts: (counts) => {
        run.counts = counts;
      },
    });
    if (read === 'interrupted') return { outcome: 'interrupted', shortfall: null };
    const shortfall = await checkPassRead(run);
    if (shortfall !== null || run.runId === null) return { outcome: 'completed', shortfall };
    const next = await claimNextPass(run, run.runId);
    if (next === null) {
      const whole = await retrying(run, () => shortfallOfRun(run.connection.db, run.counts));
      return { outcome: 'completed', shortfall: whole };
    }
    run.pass = next;
  }
}

/** Runs a statement of the run's own connection with its retries, reconnecting if need be. */
function retrying<T>(run: Run, work: () => Promise<T>, event = 'backfill.census'): Promise<T> {
  const { options, connection } = run;
  return retryTransient(work, {
    maxAttempts: options.maxAttempts,
    logger: options.logger,
    event,
    reconnect: () => connection.reopen(),
  });
}

/**
 * Checks the pass just read against the table; adds the sessions it could not place (a NULL in
 * their key) to the counts. Returns the shortfall, or null when the pass read all it should.
 */
async function checkPassRead(run: Run): Promise<PassShortfall | null> {
  const { pass, runId } = run;
  const { logger } = run.options;
  const { census, read, shortfall } = await retrying(run, () =>
    checkPass(run.connection.db, pass, run.counts),
  );
  if (shortfall !== null) return shortfall;
  // Fewer in the window than were read: some were written again or deleted after being read.
  if (census.placed < read) {
    logger.warn('backfill.sessions_changed', { runId, pass: pass.number, read, ...census });
  }
  run.counts = addCounts(run.counts, keyNullCounts(census.keyNull));
  logger.info('backfill.pass_done', { runId, pass: pass.number, read, ...census });
  return null;
}

/**
 * Begins the next catch-up pass, one lane over every patient, claiming what was written since
 * the last claim. Null when there is none to read: nothing was written, or the passes ran out.
 */
async function claimNextPass(run: Run, runId: string): Promise<LanedPass | null> {
  const { logger } = run.options;
  const { number } = run.pass;
  if (number >= MAX_CATCH_UP_PASSES) {
    logger.warn('backfill.catch_up_unsettled', {
      runId,
      passes: number,
      read: run.counts.sessionsProcessed - run.pass.processedBefore,
    });
    return null;
  }
  const next: LanedPass = {
    number: number + 1,
    captured: true,
    processedBefore: run.counts.sessionsProcessed,
    split: { countsBefore: run.counts, lanes: lanesAt([], emptyCounts) },
  };
  const claimed = await retrying(
    run,
    () =>
      run.connection.db.transaction(async (trx) => {
        const db = sqlRunner(trx);
        const changes = await claimChanges(db, next.number);
        if (changes > 0) await runStore.beginPass(db, runId, next);
        return changes;
      }),
    'backfill.claim',
  );
  if (claimed > 0) return next;
  // Nothing written since the last claim: the next pass would read nothing.
  logger.info('backfill.pass_done', {
    runId,
    pass: next.number,
    read: 0,
    placed: 0,
    beyond: 0,
    keyNull: 0,
  });
  return null;
}

/** Records an error that stopped the run (its checkpoint is kept) and throws it, scrubbed. */
async function stopOnError(run: Run, err: unknown): Promise<never> {
  const { runId, connection } = run;
  const { logger } = run.options;
  const safe = describeErrorSafely(err);
  if (runId !== null) {
    await bestEffort(logger, 'backfill.interrupt_record', () =>
      runStore.interrupt(connection.db, runId, safe),
    );
  }
  logger.error('backfill.stopped', {
    runId,
    sessionsProcessed: run.counts.sessionsProcessed,
    errorCode: safe.code,
    reason: safe.message,
  });
  throw new BackfillRunFailedError(runId, run.counts.sessionsProcessed, safe, { cause: err });
}

/**
 * Ends the run record as the passes ended: unverified (thrown), completed or interrupted, and
 * returns what the run did, with its failures read back from the table.
 */
async function finishRun(run: Run, end: PassesEnd): Promise<BackfillResult> {
  const { connection, options, runId, counts } = run;
  const { logger, dryRun } = options;
  const { outcome, shortfall } = end;
  if (shortfall !== null) {
    const error = new BackfillUnverifiedError(runId, shortfall);
    logger.error('backfill.unverified', { runId, ...shortfall });
    if (runId !== null) {
      // The next run starts over, with change records of its own.
      await stopCapture(connection, options);
      await runStore.unverified(connection.db, runId, {
        counts,
        elapsedMs: run.runElapsedMs(),
        code: error.code,
        message: error.message,
      });
    }
    throw error;
  }
  const { failures } = run.reporter;
  if (runId !== null) {
    if (outcome === 'completed') {
      await stopCapture(connection, options);
      await runStore.finish(connection.db, runId, { counts, elapsedMs: run.runElapsedMs() });
    } else {
      await runStore.interrupt(connection.db, runId, {
        code: 'ABORTED',
        message: 'stopped by request',
      });
    }
    if (run.resumed || counts.errors > failures.length) {
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
    resumed: run.resumed,
    outcome,
    totalSessions: run.totalSessions,
    elapsedMs: run.elapsedMs(),
    failures,
  };
  logger.info('backfill.finish', {
    runId,
    dryRun,
    resumed: run.resumed,
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
async function stopCapture(connection: RunConnection, options: ResolvedBackfillOptions) {
  const dropped = await stopChangeCapture(connection.db, options.lockTimeoutMs);
  if (!dropped) options.logger.warn('backfill.capture_trigger_kept', { reason: 'lock_timeout' });
}

/**
 * Throws {@link ConfigError} when the Knex pool cannot give `workers` connections at once, so a
 * run never waits on its own pool until Knex's acquire timeout.
 */
function assertPoolAllowsWorkers(knex: Knex, workers: number): void {
  if (workers <= 1) return;
  const pool = (knex.client as { pool?: { max?: unknown } }).pool;
  const configured = (knex.client.config as { pool?: { max?: unknown } }).pool?.max;
  const max = typeof pool?.max === 'number' ? pool.max : configured;
  if (typeof max === 'number' && max < workers) {
    throw new ConfigError([
      `workers is ${workers} but the Knex pool allows ${max} connection${max === 1 ? '' : 's'}: ` +
        `raise pool.max to at least ${workers}, or lower workers`,
    ]);
  }
}

import type { PinnedConnection, RunConnection, SessionSettings } from '../db/connection';
import { retryTransient } from '../db/failures';
import type { ResolvedBackfillOptions } from '../options';
import type { GoalTableMapping } from '../schema/goal-table';
import { type PageReporter, paceNextPage } from './pacing';
import { countPage, type PageOutcome, writePage } from './page';
import {
  countsOfSplit,
  type LaneSplit,
  type PatientLane,
  type ReadPass,
  readsAsSplit,
} from './reading';
import { addCounts, type BackfillCounts } from './rules';
import { runStore } from './store';

/** A connection a worker reads on: the run's own, or one more from the pool. */
interface LaneConnection {
  readonly db: PinnedConnection;
  reopen(): Promise<void>;
}

/** What {@link readPass} needs of the run around it. */
export interface PassContext {
  options: ResolvedBackfillOptions;
  runId: string | null;
  /** The treatment_goals the goals go into. */
  table: GoalTableMapping;
  pass: ReadPass & { split: LaneSplit };
  /**
   * The run's own connection, holding its lock: the first worker reads on it, and it opens the
   * other workers' connections.
   */
  connection: LaneConnection & { openWorker(settings: SessionSettings): Promise<RunConnection> };
  /** The settings of the run's connection, applied to every other worker's. */
  settings: SessionSettings;
  reporter: PageReporter;
  /** Milliseconds since this invocation started. */
  elapsedMs: () => number;
  /** Milliseconds the run has worked, earlier invocations included, for its record. */
  runElapsedMs: () => number;
  /** Sessions this invocation has read, every worker together; the pacing reads and adds to it. */
  pacing: { sessionsThisRun: number };
  /** Receives the run's counts after every page of any worker. */
  onCounts: (counts: BackfillCounts) => void;
}

/**
 * THE page loop: reads a pass, whose patients are split into lanes, with up to
 * `options.workers` connections at once, each taking the next unread lane until none is left.
 * One worker is one lane: a run with one worker reads one lane over every patient, on the run's
 * own connection. Each lane is read in reading order and saves its own cursor and counts
 * with each of its pages, so a killed run resumes every lane where it stopped, with any number
 * of workers. Since a patient belongs to one lane, dedup is exact and the earliest occurrence
 * wins as in a single reader. When one worker fails, the others stop after their current page
 * and the first error is thrown. Returns `interrupted` when the signal stopped it with lanes
 * unread.
 */
export async function readPass(context: PassContext): Promise<'read' | 'interrupted'> {
  const { options, runId, pass } = context;
  const { logger } = options;
  const { lanes } = pass.split;
  const queue = lanes.flatMap((lane, index) => (lane.done ? [] : [index]));
  const width = Math.max(1, Math.min(options.workers, queue.length));
  let failure: { error: unknown } | null = null;
  const stopped = () => failure !== null || options.signal?.aborted === true;

  const work = async (connection: LaneConnection, worker: number) => {
    try {
      for (let index = queue.shift(); index !== undefined && !stopped(); index = queue.shift()) {
        await readLane(context, { connection, worker, index, stopped });
      }
    } catch (error) {
      failure ??= { error };
    }
  };

  const others: RunConnection[] = [];
  try {
    for (let worker = 2; worker <= width; worker += 1) {
      others.push(
        await context.connection.openWorker({
          ...context.settings,
          applicationName: `${context.settings.applicationName} worker ${worker}`,
        }),
      );
    }
    if (readsAsSplit(pass.split, options.workers)) {
      logger.info('backfill.workers', {
        runId,
        pass: pass.number,
        workers: width,
        lanes: lanes.length,
        lanesLeft: queue.length,
      });
    }
    await Promise.all([context.connection, ...others].map((c, i) => work(c, i + 1)));
  } finally {
    for (const other of others) await other.close();
  }
  if (failure !== null) throw (failure as { error: unknown }).error;
  return lanes.every((lane) => lane.done) ? 'read' : 'interrupted';
}

/** One worker reading one lane of the pass. */
interface LaneReader {
  connection: LaneConnection;
  /** 1 for the run's own connection. */
  worker: number;
  /** The lane's place in the pass's split, as its record saves it. */
  index: number;
  /** True once the signal aborted or another worker failed: stop after the current page. */
  stopped: () => boolean;
}

/** Reads one lane page by page, until it comes back short or the reader is stopped. */
async function readLane(context: PassContext, reader: LaneReader): Promise<void> {
  const { options, runId, pass } = context;
  const { logger, batchSize } = options;
  const { connection, worker, index } = reader;
  const lane = pass.split.lanes[index] as PatientLane;
  // With one worker, the lane is the pass: its events read as they did before lanes.
  const where = readsAsSplit(pass.split, options.workers) ? { worker, lane: index } : {};
  const reconnect = async () => {
    await connection.reopen();
    // The page may have committed before its answer was lost: go on from what was saved.
    const saved = runId === null ? null : await runStore.splitOf(connection.db, runId);
    const savedLane = saved?.lanes[index];
    if (savedLane) Object.assign(lane, savedLane);
    logger.warn('backfill.reconnected', {
      runId,
      ...where,
      sessionsProcessed: countsOfSplit(pass.split).sessionsProcessed,
    });
  };
  const retrying = <T>(work: () => Promise<T>, event: string) =>
    retryTransient(work, { maxAttempts: options.maxAttempts, logger, event, reconnect });
  const nextPage = (): Promise<PageOutcome> => {
    const selection = {
      cursor: lane.cursor,
      limit: batchSize,
      window: pass,
      lane,
      table: context.table,
    };
    if (runId === null) {
      return countPage(connection.db, selection, options.logSessionDecisions);
    }
    return writePage(connection.db, {
      ...selection,
      runId,
      perSession: options.logSessionDecisions,
      saveProgress: (db, pageCounts, cursor) => {
        const saved: PatientLane = {
          ...lane,
          cursor,
          counts: addCounts(lane.counts, pageCounts),
          done: pageCounts.sessionsProcessed < batchSize,
        };
        return runStore.saveLane(db, runId, {
          index,
          lane: saved,
          counts: countsOfSplit({
            ...pass.split,
            lanes: pass.split.lanes.map((other, i) => (i === index ? saved : other)),
          }),
          elapsedMs: context.runElapsedMs(),
        });
      },
    });
  };
  logger.debug('backfill.lane_start', { runId, worker, lane: index });
  while (!reader.stopped()) {
    const pageStarted = performance.now();
    const page = await retrying(nextPage, 'backfill.page');
    if (page.cursor === null) {
      lane.done = true;
      break;
    }
    lane.counts = addCounts(lane.counts, page.counts);
    lane.cursor = page.cursor;
    lane.done = page.counts.sessionsProcessed < batchSize;
    const counts = countsOfSplit(pass.split);
    context.onCounts(counts);
    context.reporter.pageDone(page, counts, performance.now() - pageStarted, context.elapsedMs());
    if (lane.done) break;
    context.pacing.sessionsThisRun += page.counts.sessionsProcessed;
    await paceNextPage(connection, options, {
      runId,
      pass: pass.number,
      lockWaiters: page.lockWaiters,
      sessionsThisRun: context.pacing.sessionsThisRun,
      elapsedMs: context.elapsedMs(),
      retrying,
    });
  }
  logger.debug('backfill.lane_stop', { runId, worker, lane: index, done: lane.done });
}

import { hostname } from 'node:os';
import type { Knex } from 'knex';
import type { SessionFailure } from '../bookkeeping/failure-store';
import { INVOKERS, type Invoker } from '../schema/run-vocabulary';
import { ConfigError } from '../errors/config-error';
import type { Logger } from '../logging/logger';
import { checkWholeNumber } from '../config/check-whole-number';

/** A progress report, sent after every page. */
export interface BackfillProgress {
  runId: string | null;
  sessionsProcessed: number;
  /** Sessions in the table when the run started (a resumed run counts its earlier pages too). */
  totalSessions: number;
  goalsCreated: number;
  errors: number;
  elapsedMs: number;
}

/** Options of {@link runBackfill}. */
export interface BackfillOptions {
  /** Where the sessions and goals live. The backfill borrows one pooled connection and returns it. */
  knex: Knex;
  /** Receives structured events: ids, counts and durations, never health text. */
  logger: Logger;
  /** Count what a real run would do, and write nothing, not even bookkeeping. @default false */
  dryRun?: boolean;
  /** Sessions per page. Each page is one statement and one transaction. @default 5000 */
  batchSize?: number;
  /** Who is running the backfill, as recorded in goal_backfill_runs. @default 'library' */
  invokedBy?: Invoker;
  /** Ignore an interrupted run's checkpoint and start over. @default false */
  fromStart?: boolean;
  /** Log a progress line every this many sessions; 0 logs none. @default 100000 */
  progressEvery?: number;
  /** How long to wait for another backfill to release the lock. @default 0 */
  lockWaitMs?: number;
  /** `statement_timeout` for the backfill's statements; 0 disables it. @default 120000 */
  statementTimeoutMs?: number;
  /** `lock_timeout` for the backfill's statements, so app writes are never held up long. @default 5000 */
  lockTimeoutMs?: number;
  /** Attempts for a page that meets a transient error (deadlock, serialization, lock timeout). @default 5 */
  maxAttempts?: number;
  /** Milliseconds to wait after each page, to leave the database to live traffic. @default 0 */
  pauseMs?: number;
  /** Sessions per second not to exceed (pages wait as needed); 0 for no limit. @default 0 */
  maxSessionsPerSecond?: number;
  /** Log one debug event per session with its decision. @default false */
  logSessionDecisions?: boolean;
  /** Stops the run after the current page; its checkpoint is kept. */
  signal?: AbortSignal;
  /** Called after every page. */
  onProgress?: (progress: BackfillProgress) => void;
  /** Called once for every session whose goals could not be written. */
  onSessionFailed?: (failure: SessionFailure) => void;
  /** Names this process in goal_backfill_runs. @default `<hostname> pid <pid>` */
  runner?: string;
}

/** {@link BackfillOptions} after validation, with every default applied. */
export interface ResolvedBackfillOptions
  extends Required<Omit<BackfillOptions, 'signal' | 'onProgress' | 'onSessionFailed'>> {
  signal: AbortSignal | undefined;
  onProgress: ((progress: BackfillProgress) => void) | undefined;
  onSessionFailed: ((failure: SessionFailure) => void) | undefined;
}

/**
 * Sessions per page when nobody says otherwise. Measured on 100k sessions (docs/performance.md):
 * 1000 spends a fifth of the run on per-page overhead; past 10000 the page's sort spills to disk.
 */
export const DEFAULT_BATCH_SIZE = 5000;

/** The most sessions one page may hold; bigger pages hold locks and memory for too long. */
export const MAX_BATCH_SIZE = 100_000;

/** Validates options and applies defaults. Throws {@link ConfigError} listing every problem. */
export function resolveBackfillOptions(options: BackfillOptions): ResolvedBackfillOptions {
  const problems: string[] = [];
  checkWholeNumber(problems, 'batchSize', options.batchSize, 1, MAX_BATCH_SIZE);
  checkWholeNumber(problems, 'progressEvery', options.progressEvery, 0, Number.MAX_SAFE_INTEGER);
  checkWholeNumber(problems, 'lockWaitMs', options.lockWaitMs, 0, 86_400_000);
  checkWholeNumber(problems, 'statementTimeoutMs', options.statementTimeoutMs, 0, 2_147_483_647);
  checkWholeNumber(problems, 'lockTimeoutMs', options.lockTimeoutMs, 0, 2_147_483_647);
  checkWholeNumber(problems, 'maxAttempts', options.maxAttempts, 1, 100);
  checkWholeNumber(problems, 'pauseMs', options.pauseMs, 0, 3_600_000);
  checkWholeNumber(
    problems,
    'maxSessionsPerSecond',
    options.maxSessionsPerSecond,
    0,
    Number.MAX_SAFE_INTEGER,
  );
  if (options.invokedBy !== undefined && !INVOKERS.includes(options.invokedBy)) {
    problems.push(
      `invokedBy must be one of ${INVOKERS.join(', ')} (got ${String(options.invokedBy)})`,
    );
  }
  if ((options.knex as unknown as { isTransaction?: boolean }).isTransaction === true) {
    problems.push(
      'the backfill needs a Knex instance, not a transaction: it commits page by page. ' +
        'In a migration, export `const config = { transaction: false }`',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    knex: options.knex,
    logger: options.logger,
    dryRun: options.dryRun ?? false,
    batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
    invokedBy: options.invokedBy ?? 'library',
    fromStart: options.fromStart ?? false,
    progressEvery: options.progressEvery ?? 100_000,
    lockWaitMs: options.lockWaitMs ?? 0,
    statementTimeoutMs: options.statementTimeoutMs ?? 120_000,
    lockTimeoutMs: options.lockTimeoutMs ?? 5_000,
    maxAttempts: options.maxAttempts ?? 5,
    pauseMs: options.pauseMs ?? 0,
    maxSessionsPerSecond: options.maxSessionsPerSecond ?? 0,
    logSessionDecisions: options.logSessionDecisions ?? false,
    signal: options.signal,
    onProgress: options.onProgress,
    onSessionFailed: options.onSessionFailed,
    runner: options.runner ?? `${hostname()} pid ${process.pid}`,
  };
}

import { hostname } from 'node:os';
import type { Knex } from 'knex';
import type { SessionFailure } from '../bookkeeping/failure-store';
import {
  checkOption,
  OPTION_SPECS,
  optionOrDefault,
  schemaNameProblem,
} from '../config/option-spec';
import { ConfigError } from '../errors/config-error';
import type { Logger } from '../logging/logger';
import { INVOKERS, type Invoker } from '../schema/run-vocabulary';

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
  /**
   * Extra milliseconds to wait after a page when the database is under strain: app queries
   * waited on the page's locks, or the replicas' replay lag is above `maxReplicationLagMs`.
   * 0 never backs off on those signals. @default 1000
   */
  backoffMs?: number;
  /** Replay lag of the server's replicas above which each page backs off; 0 for no check. @default 10000 */
  maxReplicationLagMs?: number;
  /**
   * SQL run after every page whose first column of its first row is how many milliseconds to
   * wait (0 or less: none; at most 600000), for a health signal of your own. A query that fails
   * is logged with its SQLSTATE and does not stop the run. @default null
   */
  healthQuery?: string | null;
  /**
   * Connections that backfill at once. The sessions are split among them by patient, so every
   * (patient, description) pair belongs to one worker and deduplication stays exact. The Knex
   * pool must allow this many connections (PGlite has one). @default 1
   */
  workers?: number;
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
  /**
   * The PostgreSQL schema that holds therapy_sessions, treatment_goals and this package's
   * tables. The backfill's connections resolve every name in it alone while it holds them, and
   * get the app's search_path back when it lets go. It must exist. Unset, names resolve by the
   * connection's own search_path (a knexfile's `searchPath`, a role's or database's setting).
   * @default undefined
   */
  schema?: string;
}

/** {@link BackfillOptions} after validation, with every default applied. */
export interface ResolvedBackfillOptions
  extends Required<Omit<BackfillOptions, 'signal' | 'onProgress' | 'onSessionFailed' | 'schema'>> {
  schema: string | null;
  signal: AbortSignal | undefined;
  onProgress: ((progress: BackfillProgress) => void) | undefined;
  onSessionFailed: ((failure: SessionFailure) => void) | undefined;
}

/** Sessions per page when nobody says otherwise (see OPTION_SPECS.batchSize). */
export const DEFAULT_BATCH_SIZE = OPTION_SPECS.batchSize.default;

/** The most sessions one page may hold; bigger pages hold locks and memory for too long. */
export const MAX_BATCH_SIZE = OPTION_SPECS.batchSize.max;

/** Validates options and applies defaults. Throws {@link ConfigError} listing every problem. */
export function resolveBackfillOptions(options: BackfillOptions): ResolvedBackfillOptions {
  const problems: string[] = [];
  for (const name of [
    'batchSize',
    'progressEvery',
    'lockWaitMs',
    'statementTimeoutMs',
    'lockTimeoutMs',
    'maxAttempts',
    'pauseMs',
    'maxSessionsPerSecond',
    'backoffMs',
    'maxReplicationLagMs',
    'workers',
  ] as const) {
    checkOption(problems, name, options[name]);
  }
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
  if (
    options.healthQuery !== undefined &&
    options.healthQuery !== null &&
    (typeof options.healthQuery !== 'string' || options.healthQuery.trim() === '')
  ) {
    problems.push('healthQuery must be SQL text, or null for none');
  }
  const schemaProblem = schemaNameProblem(options.schema);
  if (schemaProblem !== null) problems.push(`schema ${schemaProblem}`);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    knex: options.knex,
    logger: options.logger,
    dryRun: options.dryRun ?? false,
    batchSize: optionOrDefault('batchSize', options.batchSize),
    invokedBy: options.invokedBy ?? 'library',
    fromStart: options.fromStart ?? false,
    progressEvery: optionOrDefault('progressEvery', options.progressEvery),
    lockWaitMs: optionOrDefault('lockWaitMs', options.lockWaitMs),
    statementTimeoutMs: optionOrDefault('statementTimeoutMs', options.statementTimeoutMs),
    lockTimeoutMs: optionOrDefault('lockTimeoutMs', options.lockTimeoutMs),
    maxAttempts: optionOrDefault('maxAttempts', options.maxAttempts),
    pauseMs: optionOrDefault('pauseMs', options.pauseMs),
    maxSessionsPerSecond: optionOrDefault('maxSessionsPerSecond', options.maxSessionsPerSecond),
    backoffMs: optionOrDefault('backoffMs', options.backoffMs),
    maxReplicationLagMs: optionOrDefault('maxReplicationLagMs', options.maxReplicationLagMs),
    healthQuery: options.healthQuery ?? null,
    workers: optionOrDefault('workers', options.workers),
    logSessionDecisions: options.logSessionDecisions ?? false,
    signal: options.signal,
    onProgress: options.onProgress,
    onSessionFailed: options.onSessionFailed,
    runner: options.runner ?? `${hostname()} pid ${process.pid}`,
    schema: options.schema ?? null,
  };
}

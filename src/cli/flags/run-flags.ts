import type { Options } from 'yargs';
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from '../../backfill/backfill-options';
import { FlagReader } from './flag-reader';

/** The flags of `goal-backfill run`, checked. */
export interface RunFlags {
  /** Count what a real run would do and write nothing. @default false */
  dryRun: boolean;
  /** Sessions per page. @default 5000 */
  batchSize: number;
  /** Sessions between progress log lines when stderr is not a terminal; 0: none. @default 100000 */
  progressEvery: number;
  /** stdout carries only the summary, as one JSON object. @default false */
  json: boolean;
  /** File for one JSON line per failed session. @default null */
  errorLog: string | null;
  /** Ignore an interrupted run's checkpoint. @default false */
  fromStart: boolean;
  /** How long to wait for another backfill's lock. @default 0 */
  lockWaitMs: number;
  /** `statement_timeout` of the backfill's connection; 0: none. @default 120000 */
  statementTimeoutMs: number;
  /** `lock_timeout` of the backfill's connection. @default 5000 */
  lockTimeoutMs: number;
  /** Milliseconds to wait after each page, to leave the database to live traffic. @default 0 */
  pauseMs: number;
  /** Sessions per second not to exceed; 0: no limit. @default 0 */
  maxSessionsPerSecond: number;
}

const MAX_TIMEOUT_MS = 2_147_483_647;
/**
 * The shortest statement_timeout accepted. It covers every statement of the run, including the
 * lock, the run record and the checkpoint; below this those could be cancelled before the run
 * exists, so it could not stop in the documented way.
 */
export const MIN_STATEMENT_TIMEOUT_MS = 1000;
const MAX_LOCK_WAIT_SECONDS = 86_400;
const MAX_PAUSE_MS = 3_600_000;

/** The yargs options behind {@link RunFlags}. */
export const RUN_OPTIONS = {
  'dry-run': {
    type: 'boolean',
    default: false,
    describe: 'Count what a real run would do and write nothing at all',
  },
  'batch-size': {
    type: 'number',
    default: DEFAULT_BATCH_SIZE,
    requiresArg: true,
    describe: `Sessions per page (1 to ${MAX_BATCH_SIZE}); each page is one transaction`,
  },
  'progress-every': {
    type: 'number',
    default: 100_000,
    requiresArg: true,
    describe: 'Sessions between progress log lines when stderr is not a terminal (0: none)',
  },
  json: {
    type: 'boolean',
    default: false,
    describe: 'Print only the summary to stdout, as one JSON object',
  },
  'error-log': {
    type: 'string',
    requiresArg: true,
    describe: 'Write one JSON line per failed session to this file',
  },
  'from-start': {
    type: 'boolean',
    default: false,
    describe: "Ignore an interrupted run's checkpoint and start over",
  },
  'lock-wait': {
    type: 'number',
    default: 0,
    requiresArg: true,
    describe: 'Seconds to wait for another backfill or rollback to finish',
  },
  'statement-timeout': {
    type: 'number',
    default: 120_000,
    requiresArg: true,
    describe: `statement_timeout in ms for the backfill (0: none; else ${MIN_STATEMENT_TIMEOUT_MS} or more)`,
  },
  'lock-timeout': {
    type: 'number',
    default: 5000,
    requiresArg: true,
    describe: 'lock_timeout in ms, so app writes are never held up long',
  },
  'pause-ms': {
    type: 'number',
    default: 0,
    requiresArg: true,
    describe: 'Milliseconds to wait after each page, to leave room for live traffic',
  },
  'max-sessions-per-second': {
    type: 'number',
    default: 0,
    requiresArg: true,
    describe: 'Sessions per second not to exceed; pages wait as needed (0: no limit)',
  },
} as const satisfies Record<string, Options>;

/** Reads and checks the run flags. Throws a UsageError naming every problem. */
export function parseRunFlags(argv: Readonly<Record<string, unknown>>): RunFlags {
  const read = new FlagReader(argv, 'run');
  const flags = {
    dryRun: read.boolean('dry-run'),
    batchSize: read.integer('batch-size', { min: 1, max: MAX_BATCH_SIZE }) ?? DEFAULT_BATCH_SIZE,
    progressEvery:
      read.integer('progress-every', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 100_000,
    json: read.boolean('json'),
    errorLog: read.text('error-log') ?? null,
    fromStart: read.boolean('from-start'),
    lockWaitMs: read.secondsAsMs('lock-wait', { min: 0, max: MAX_LOCK_WAIT_SECONDS }) ?? 0,
    statementTimeoutMs:
      read.timeoutMs('statement-timeout', { min: MIN_STATEMENT_TIMEOUT_MS, max: MAX_TIMEOUT_MS }) ??
      120_000,
    lockTimeoutMs: read.integer('lock-timeout', { min: 0, max: MAX_TIMEOUT_MS }) ?? 5000,
    pauseMs: read.integer('pause-ms', { min: 0, max: MAX_PAUSE_MS }) ?? 0,
    maxSessionsPerSecond:
      read.integer('max-sessions-per-second', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0,
  };
  read.finish();
  return flags;
}

import type { Options } from 'yargs';
import { FlagReader } from './flag-reader';

/** The flags of `goal-backfill rollback`, checked. */
export interface RollbackFlags {
  /** Count what would be deleted and delete nothing. @default false */
  dryRun: boolean;
  /** Also delete backfilled goals that clinicians changed. @default false */
  includeChanged: boolean;
  /** stdout carries only the result, as one JSON object. @default false */
  json: boolean;
  /** Goals deleted per statement. @default 5000 */
  batchSize: number;
  /** How long to wait for a running backfill's lock. @default 0 */
  lockWaitMs: number;
}

/** The yargs options behind {@link RollbackFlags}. */
export const ROLLBACK_OPTIONS = {
  'dry-run': {
    type: 'boolean',
    default: false,
    describe: 'Say how many goals would be deleted and kept, and delete nothing',
  },
  'include-changed': {
    type: 'boolean',
    default: false,
    describe: 'Also delete backfilled goals that clinicians have changed (warns first)',
  },
  json: {
    type: 'boolean',
    default: false,
    describe: 'Print only the result to stdout, as one JSON object',
  },
  'batch-size': {
    type: 'number',
    default: 5000,
    requiresArg: true,
    describe: 'Goals deleted per statement (1 to 100000)',
  },
  'lock-wait': {
    type: 'number',
    default: 0,
    requiresArg: true,
    describe: 'Seconds to wait for a running backfill to finish',
  },
} as const satisfies Record<string, Options>;

/** Reads and checks the rollback flags. Throws a UsageError naming every problem. */
export function parseRollbackFlags(argv: Readonly<Record<string, unknown>>): RollbackFlags {
  const read = new FlagReader(argv, 'rollback');
  const flags = {
    dryRun: read.boolean('dry-run'),
    includeChanged: read.boolean('include-changed'),
    json: read.boolean('json'),
    batchSize: read.integer('batch-size', { min: 1, max: 100_000 }) ?? 5000,
    lockWaitMs: read.secondsAsMs('lock-wait', { min: 0, max: 86_400 }) ?? 0,
  };
  read.finish();
  return flags;
}

import type { Options } from 'yargs';
import { FlagReader } from './flag-reader';

/** The flags of `goal-backfill status`, checked. */
export interface StatusFlags {
  /** stdout carries only the status, as one JSON object. @default false */
  json: boolean;
  /** How many recent runs to list. @default 10 */
  limit: number;
}

/** The yargs options behind {@link StatusFlags}. */
export const STATUS_OPTIONS = {
  json: {
    type: 'boolean',
    default: false,
    describe: 'Print only the status to stdout, as one JSON object',
  },
  limit: {
    type: 'number',
    default: 10,
    requiresArg: true,
    describe: 'How many recent runs to list (1 to 1000)',
  },
} as const satisfies Record<string, Options>;

/** Reads and checks the status flags. Throws a UsageError naming every problem. */
export function parseStatusFlags(argv: Readonly<Record<string, unknown>>): StatusFlags {
  const read = new FlagReader(argv, 'status');
  const flags = {
    json: read.boolean('json'),
    limit: read.integer('limit', { min: 1, max: 1000 }) ?? 10,
  };
  read.finish();
  return flags;
}

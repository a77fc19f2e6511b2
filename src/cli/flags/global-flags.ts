import type { Options } from 'yargs';
import type { LogFormat } from '../../logging/create-logger';

/** Flags every command accepts. */
export interface GlobalFlags {
  /** Debug logging, and stack traces on unexpected errors. @default false */
  verbose: boolean;
  /** How stderr lines are written. @default 'text' */
  logFormat: LogFormat;
}

/** The yargs options behind {@link GlobalFlags}. */
export const GLOBAL_OPTIONS = {
  verbose: {
    type: 'boolean',
    default: false,
    global: true,
    describe: 'Log at debug level: page timings, each session decision by id, stack traces',
  },
  'log-format': {
    choices: ['text', 'json'],
    default: 'text',
    global: true,
    requiresArg: true,
    describe: 'stderr lines for people (text) or log pipelines (json)',
  },
} as const satisfies Record<string, Options>;

/** Reads the global flags; yargs has already checked their values. */
export function readGlobalFlags(argv: Readonly<Record<string, unknown>>): GlobalFlags {
  return {
    verbose: argv.verbose === true,
    logFormat: argv['log-format'] === 'json' ? 'json' : 'text',
  };
}

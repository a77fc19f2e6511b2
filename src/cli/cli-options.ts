import type { Argv, Options } from 'yargs';
import { OPTION_SPECS, type OptionName, parseOption } from '../config/option-spec';
import type { LogFormat } from '../logging/create-logger';

/** The help group of the options every command takes. */
export const GLOBAL_GROUP = 'Global options:';

/** What every command's help ends with. */
export const EXIT_CODES_EPILOGUE =
  'DATABASE_URL names the database (postgres://user:password@host:5432/database); without it, ' +
  'outside production, the embedded database in .data/pglite.\n' +
  'Exit codes: 0 done; 1 some sessions failed (or an unexpected error); 2 bad usage, ' +
  'configuration, unreachable database or missing schema; 3 another backfill holds the lock; ' +
  '130 interrupted. See docs/cli.md.';

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
    global: true,
    group: GLOBAL_GROUP,
    describe: 'Log at debug level: page timings, each session decision by id, stack traces',
  },
  'log-format': {
    choices: ['text', 'json'],
    default: 'text',
    global: true,
    requiresArg: true,
    group: GLOBAL_GROUP,
    describe: 'stderr lines for people (text) or log pipelines (json)',
  },
} as const satisfies Record<string, Options>;

/**
 * The yargs option for a numeric option of the spec: its flag, placeholder, range, default.
 * It has no yargs type: main turns off yargs' number parsing, which reads `--lock-timeout-ms=`
 * as 0 and `0x10` as 16, so the text reaches {@link parseOption}, the variables' parser. A
 * value it refuses stays text, for the check to name.
 */
function numericOption(name: OptionName): [string, Options] {
  const spec = OPTION_SPECS[name];
  const none = 'zeroMeansNone' in spec ? '0 (none) or ' : '';
  return [
    spec.flag,
    {
      requiresArg: true,
      default: spec.default,
      coerce: (given: unknown) =>
        typeof given === 'string' ? (parseOption(name, given).value ?? given) : given,
      describe: `${spec.placeholder}  ${spec.describe} [${none}${spec.min} to ${spec.max}]`,
    },
  ];
}

/** A boolean flag: `--flag`, `--no-flag`, `--flag=true` or `--flag=false`, nothing else. */
export function flag(describe: string): Options {
  return { type: 'boolean', describe };
}

/**
 * Declares a command's options on `yargs`: its own `flags`, the numeric options of the spec,
 * the exit codes epilogue, and one check that names every bad value at once (a range, a flag given twice, an empty
 * value).
 */
export function declareOptions(
  yargs: Argv,
  flags: Readonly<Record<string, Options>>,
  numeric: readonly OptionName[],
): Argv {
  const options = { ...flags, ...Object.fromEntries(numeric.map(numericOption)) };
  const numericByFlag = new Map<string, OptionName>(
    numeric.map((name) => [OPTION_SPECS[name].flag, name]),
  );
  return yargs
    .options(options)
    .epilogue(EXIT_CODES_EPILOGUE)
    .check((argv) => {
      const problems: string[] = [];
      for (const name of [...Object.keys(options), ...Object.keys(GLOBAL_OPTIONS)]) {
        const value = argv[name];
        const numericName = numericByFlag.get(name);
        if (Array.isArray(value)) {
          problems.push(`--${name} was given ${value.length} times: give it once`);
        } else if (numericName !== undefined && typeof value === 'boolean') {
          problems.push(
            `--no-${name} is not a flag: give --${name} with a number, or leave it out`,
          );
        } else if (numericName !== undefined && typeof value === 'string') {
          problems.push(`--${name} ${parseOption(numericName, value).problem}`);
        } else if (typeof value === 'string' && value.trim() === '') {
          problems.push(`--${name} needs a value`);
        }
      }
      return problems.length === 0 || problems.join('; ');
    });
}

/** Whether `--name=value` wrote a boolean flag with a value other than true or false. */
export function looseBooleans(
  argv: readonly string[],
  options: Readonly<Record<string, Options>>,
): string[] {
  const problems: string[] = [];
  for (const arg of argv.slice(0, argv.includes('--') ? argv.indexOf('--') : undefined)) {
    const [, written = '', value = ''] = /^--([^=]+)=(.*)$/s.exec(arg) ?? [];
    // yargs reads `--dryRun` as `--dry-run`.
    const name = written.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
    if (options[name]?.type !== 'boolean' || value === 'true' || value === 'false') continue;
    problems.push(
      `--${name} accepts only true or false after = (got ${JSON.stringify(value)}): ` +
        `write --${name} or --no-${name}`,
    );
  }
  return problems;
}

import type { Argv, Options } from 'yargs';
import type { LogFormat } from '../logging';
import {
  type FlagNameOf,
  flagsOf,
  OPTION_SPECS,
  type OptionCommand,
  type OptionName,
  type OptionSpec,
  parseOption,
  SCHEMA_OPTION,
  schemaFromEnv,
  schemaNameProblem,
} from '../options';
import type { OutputFlags } from './output';

/** The help group of the options every command takes. */
export const GLOBAL_GROUP = 'Global options:';

/** What every command's help ends with. */
export const EXIT_CODES_EPILOGUE =
  'DATABASE_URL names the database (postgres://user:password@host:5432/database); without it, ' +
  'outside production, the embedded database in .data/pglite, when its dev-only packages are ' +
  'installed.\n' +
  'Exit codes: 0 done; 1 some sessions failed (or an unexpected error); 2 bad usage, ' +
  'configuration, unreachable database or missing schema; 3 another backfill holds the lock; ' +
  '130 interrupted. See docs/cli.md (in an app: node_modules/goal-backfill/docs/cli.md).';

/** Flags every command accepts: those that shape its output, and `--schema`. */
export interface GlobalFlags extends OutputFlags {
  /** The schema of the app's tables and this package's. @default GOAL_BACKFILL_SCHEMA */
  schema?: string;
}

/** The variable that sets `--log-format` when the flag is not given. */
const LOG_FORMAT_VARIABLE = 'GOAL_BACKFILL_LOG_FORMAT';

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
    global: true,
    requiresArg: true,
    group: GLOBAL_GROUP,
    describe: `Every stderr line for people (text) or log pipelines (json) [default: ${LOG_FORMAT_VARIABLE}, else text]`,
  },
  [SCHEMA_OPTION.flag]: {
    type: 'string',
    global: true,
    requiresArg: true,
    group: GLOBAL_GROUP,
    describe: `${SCHEMA_OPTION.placeholder}  ${SCHEMA_OPTION.describe} [default: ${SCHEMA_OPTION.env}]`,
  },
} as const satisfies Record<string, Options>;

/**
 * The log format of an invocation: `--log-format` as written before any `--`, else
 * GOAL_BACKFILL_LOG_FORMAT, else text; json only when every `--log-format` given says json.
 * Read from the command line as typed, so that an error found before yargs has read the flags
 * (or one about the flags themselves) is written in it too.
 */
export function cliLogFormat(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): LogFormat {
  const end = argv.indexOf('--');
  const args = argv.slice(0, end === -1 ? undefined : end);
  const given = args.flatMap((arg, index) => {
    if (arg === '--log-format' || arg === '--logFormat') return [args[index + 1]];
    return /^--log-?[fF]ormat=/.test(arg) ? [arg.slice(arg.indexOf('=') + 1)] : [];
  });
  const formats = given.length > 0 ? given : [env[LOG_FORMAT_VARIABLE]];
  return formats.every((format) => format === 'json') ? 'json' : 'text';
}

/** The schema a command works in: `--schema`, which wins, else GOAL_BACKFILL_SCHEMA. */
export function cliSchema(
  flagValue: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  return flagValue ?? schemaFromEnv(env).value;
}

/** What is wrong with `--schema` and the variables the CLI reads, if anything. */
function settingProblems(
  schema: unknown,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const problems: string[] = [];
  const fromFlag =
    typeof schema === 'string' && schema.trim() !== '' ? schemaNameProblem(schema) : null;
  if (fromFlag !== null) problems.push(`--${SCHEMA_OPTION.flag} ${fromFlag}`);
  const fromEnv = schemaFromEnv(env).problem;
  if (schema === undefined && fromEnv !== null) problems.push(fromEnv);
  const format = env[LOG_FORMAT_VARIABLE];
  if (format !== undefined && format !== 'text' && format !== 'json') {
    problems.push(`${LOG_FORMAT_VARIABLE} must be text or json (got ${JSON.stringify(format)})`);
  }
  return problems;
}

/**
 * The yargs option for a numeric option of the spec: its flag, placeholder, range, default.
 * It has no yargs type: main turns off yargs' number parsing, which reads `--lock-timeout-ms=`
 * as 0 and `0x10` as 16, so the text reaches {@link parseOption}, the variables' parser. A
 * value it refuses stays text, for the check to name.
 */
function numericOption(name: OptionName, command: OptionCommand): [string, Options] {
  const spec: OptionSpec = OPTION_SPECS[name];
  const none = spec.zeroMeansNone ? '0 (none) or ' : '';
  const describe = spec.describeFor?.[command] ?? spec.describe;
  return [
    spec.flag,
    {
      requiresArg: true,
      default: spec.default,
      coerce: (given: unknown) =>
        typeof given === 'string' ? (parseOption(name, given).value ?? given) : given,
      describe: `${spec.placeholder}  ${describe} [${none}${spec.min} to ${spec.max}]`,
    },
  ];
}

/** A boolean flag: `--flag`, `--no-flag`, `--flag=true` or `--flag=false`, nothing else. */
export function flag(describe: string): Options {
  return { type: 'boolean', describe };
}

/** What a command's check reads beyond yargs' parse: the part of the CLI's context it needs. */
export interface Invocation {
  /** The command line as typed: how a boolean flag was written is gone once yargs has read it. */
  readonly argv: readonly string[];
  /** Where npm leaves the flags it took for itself (`npm_config_*`). */
  readonly io: { readonly env: Readonly<Record<string, string | undefined>> };
}

/** The numeric flags of `command`, as the spec names them, each read (or its default). */
export type NumericFlags<C extends OptionCommand> = Record<FlagNameOf<C>, number>;

/** The numeric flags of `command` out of its parsed `args`, to pass to its library function. */
export function numericFlags<C extends OptionCommand>(
  command: C,
  args: NumericFlags<C>,
): NumericFlags<C> {
  return Object.fromEntries(flagsOf(command).map((name) => [name, args[name]])) as NumericFlags<C>;
}

/**
 * Declares a command's options on `yargs`: its own `flags`, the numeric options the spec gives
 * the command, the exit codes epilogue, and one check that names every problem at once: a bad
 * value, a flag given twice, arguments after `--`, and flags npm took for itself.
 */
export function declareOptions(
  yargs: Argv,
  command: OptionCommand,
  invocation: Invocation,
  flags: Readonly<Record<string, Options>>,
): Argv {
  const numeric: readonly OptionName[] = flagsOf(command);
  const options = {
    ...flags,
    ...Object.fromEntries(numeric.map((name) => numericOption(name, command))),
  };
  const every: Readonly<Record<string, Options>> = { ...GLOBAL_OPTIONS, ...options };
  const numericByFlag = new Map<string, OptionName>(
    numeric.map((name) => [OPTION_SPECS[name].flag, name]),
  );
  return yargs
    .options(options)
    .epilogue(EXIT_CODES_EPILOGUE)
    .check((argv) => {
      const written = writtenFlags(invocation.argv);
      const problems = [
        ...afterDoubleDash(argv['--']),
        ...flagsNpmTook(command, invocation.io.env, every, written),
        ...booleanProblems(written, every),
        ...settingProblems(argv.schema, invocation.io.env),
      ];
      for (const name of Object.keys(every)) {
        const value = argv[name];
        const numericName = numericByFlag.get(name);
        // yargs gathers a repeated flag that takes a value into an array (never a boolean one).
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

/** A `--flag` the command line holds before any `--`, named as the options are. */
interface WrittenFlag {
  name: string;
  negated: boolean;
  /** What followed `=`, if the flag was written `--flag=value`. */
  value: string | undefined;
}

/**
 * The `--` flags of `argv`, as written. Every token before `--` that starts with `--` is a flag:
 * yargs takes a token that starts with `-` as a flag's value only when it is a negative number.
 */
function writtenFlags(argv: readonly string[]): WrittenFlag[] {
  const end = argv.indexOf('--');
  return argv.slice(0, end === -1 ? undefined : end).flatMap((arg) => {
    const [, written = '', value] = /^--([^=]+)(?:=(.*))?$/s.exec(arg) ?? [];
    // yargs reads `--dryRun` as `--dry-run`.
    const kebab = written.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
    if (kebab === '') return [];
    const negated = kebab.startsWith('no-');
    return [{ name: negated ? kebab.slice(3) : kebab, negated, value }];
  });
}

/**
 * Booleans written with a value other than true or false, or written more than once. yargs
 * reads `--dry-run=yes` as false, which would turn a dry run into a real one, and keeps one of
 * `--dry-run --no-dry-run` without a word; only the command line as typed tells them apart.
 */
function booleanProblems(
  written: readonly WrittenFlag[],
  options: Readonly<Record<string, Options>>,
): string[] {
  const problems: string[] = [];
  const times = new Map<string, number>();
  for (const { name, negated, value } of written) {
    // `--no-dry-run=true` is no flag at all: yargs' strict mode names it.
    if (options[name]?.type !== 'boolean' || (negated && value !== undefined)) continue;
    times.set(name, (times.get(name) ?? 0) + 1);
    if (value === undefined || value === 'true' || value === 'false') continue;
    problems.push(
      `--${name} accepts only true or false after = (got ${JSON.stringify(value)}): ` +
        `write --${name} or --no-${name}`,
    );
  }
  for (const [name, count] of times) {
    if (count > 1) problems.push(`--${name} was given ${count} times: give it once`);
  }
  return problems;
}

/** Arguments after `--` (yargs' `populate--`): no command reads any, so each would be lost. */
function afterDoubleDash(rest: unknown): string[] {
  if (!Array.isArray(rest) || rest.length === 0) return [];
  // Only up to any `=`: a value could be SQL or a URL with a password.
  const shown = rest.map((arg) => String(arg).replace(/=.*$/s, '=…')).join(' ');
  return [
    `arguments after -- are not read, so nothing was done (got ${shown}): give them before the -- ` +
      '(through npm, write one --: npm run backfill -- <command> <flags>)',
  ];
}

/**
 * The command's flags npm took as its own settings. `npm run backfill rollback --dry-run`,
 * without `--` before the flags, leaves `npm_config_dry_run=true` in the environment and hands
 * the CLI only `rollback`; npm does the same with any flag it is given (`--include-changed`,
 * `--lock-timeout-ms=100`). A flag the command line gives itself is what the operator said.
 */
function flagsNpmTook(
  command: OptionCommand,
  env: Invocation['io']['env'],
  options: Readonly<Record<string, Options>>,
  written: readonly WrittenFlag[],
): string[] {
  const given = new Set(written.map(({ name }) => name));
  const taken = Object.entries(options).flatMap(([name, option]) => {
    if (given.has(name)) return [];
    // npm writes `--dry-run` as npm_config_dry_run, and `--dryRun` as npm_config_dryrun.
    const variables = new Set([name.replace(/-/g, '_'), name.replace(/-/g, '')]);
    const variable = [...variables]
      .map((suffix) => `npm_config_${suffix}`)
      .find((candidate) => {
        const value = env[candidate];
        // npm leaves a boolean it was not given as "" (npm 6) or unset; false drops nothing.
        return (
          value !== undefined && value !== '' && !(option.type === 'boolean' && value === 'false')
        );
      });
    return variable === undefined ? [] : [{ name, variable, boolean: option.type === 'boolean' }];
  });
  if (taken.length === 0) return [];
  const one = taken.length === 1;
  const example = taken.map(({ name, boolean }) => (boolean ? `--${name}` : `--${name} …`));
  return [
    `npm took ${listed(taken.map(({ name }) => `--${name}`))} for itself ` +
      `(${listed(taken.map(({ variable }) => variable))} ${one ? 'is' : 'are'} set), so ` +
      `goal-backfill did not get ${one ? 'it' : 'them'} and did nothing: put -- before the ` +
      `command, as in npm run backfill -- ${command} ${example.join(' ')} (the same fix holds ` +
      `when an .npmrc or the environment sets ${one ? 'it' : 'them'})`,
  ];
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  return items.length <= 1
    ? items.join('')
    : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

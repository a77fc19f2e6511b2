import { hostname } from 'node:os';
import type { Knex } from 'knex';
import type { SessionFailure } from './errors';
import { ConfigError } from './errors';
import type { Logger } from './logging';
import { LOG_LEVELS, type LogFormat, type LogLevel } from './logging';
import { INVOKERS, type Invoker } from './names';

/** The largest value PostgreSQL takes for `statement_timeout` and `lock_timeout`, in ms. */
const MAX_PG_TIMEOUT_MS = 2_147_483_647;

/** The library functions that take numeric options of the spec, by the spec's names. */
export type OptionTaker = 'runBackfill' | 'rollbackBackfill' | 'getBackfillStatus';

/** The CLI commands that take numeric flags of the spec. */
export type OptionCommand = 'run' | 'rollback' | 'status';

/**
 * One numeric option (a whole number) of the backfill, the rollback or the status, named once.
 * The CLI's flags, the GOAL_BACKFILL_* environment reader, the library's option checks and
 * defaults, and the option types all read it.
 */
export interface OptionSpec {
  /** The `--flag` of the CLI. Durations are whole milliseconds and end in `-ms`. */
  flag: string;
  /** The unit, as the help's placeholder: `<n>` for counts, `<ms>` for durations. */
  placeholder: '<n>' | '<ms>';
  /** Applied by the library when the option is not given. */
  default: number;
  min: number;
  max: number;
  /** 0 is accepted too, meaning none, although it is below `min`. @default false */
  zeroMeansNone?: boolean;
  /** The environment variable the migration and the seeds read it from, if any. */
  env?: string;
  /** The library functions that take it, under the spec's name. */
  takenBy: readonly OptionTaker[];
  /** The commands that take it as `--flag` and pass it on. */
  commands: readonly OptionCommand[];
  /** The help line of the flag, as the backfill (`run`, the migration) reads the option. */
  describe: string;
  /** The help line under a command that reads the option differently, by command name. */
  describeFor?: Readonly<Partial<Record<OptionCommand, string>>>;
}

/**
 * Every numeric option, by the name the library takes it under. Their order is the order of
 * the flags in the help and of the problems a check reports.
 */
export const OPTION_SPECS = {
  /** Sessions per page (goals per delete for the rollback). @default 5000 */
  batchSize: {
    flag: 'batch-size',
    placeholder: '<n>',
    // Measured on 100k sessions (docs/performance.md): 1000 spends a fifth of the run on
    // per-page overhead; past 10000 the page's sort spills to disk.
    default: 5000,
    min: 1,
    // Bigger pages hold locks and memory for too long.
    max: 100_000,
    env: 'GOAL_BACKFILL_BATCH_SIZE',
    takenBy: ['runBackfill', 'rollbackBackfill'],
    commands: ['run', 'rollback'],
    describe: 'Sessions per page; each page is one statement and one transaction',
    describeFor: { rollback: 'Goals deleted per statement' },
  },
  /** Log a progress line every this many sessions; 0 logs none. @default 100000 */
  progressEvery: {
    flag: 'progress-every',
    placeholder: '<n>',
    default: 100_000,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    env: 'GOAL_BACKFILL_PROGRESS_EVERY',
    takenBy: ['runBackfill'],
    commands: ['run'],
    describe: 'Sessions between progress log lines when stderr is not a terminal (0: none)',
  },
  /** How long to wait for another backfill or rollback to release the lock. @default 0 */
  lockWaitMs: {
    flag: 'lock-wait-ms',
    placeholder: '<ms>',
    default: 0,
    min: 0,
    max: 86_400_000,
    env: 'GOAL_BACKFILL_LOCK_WAIT_MS',
    takenBy: ['runBackfill', 'rollbackBackfill'],
    commands: ['run', 'rollback'],
    describe: 'How long to wait for another backfill or rollback to finish',
  },
  /** `statement_timeout` of the connection; 0 disables it. @default 120000 */
  statementTimeoutMs: {
    flag: 'statement-timeout-ms',
    placeholder: '<ms>',
    default: 120_000,
    // Below this the run's own lock, run record and checkpoint statements could be cancelled
    // before the run exists, so it could not stop in the documented way.
    min: 1000,
    max: MAX_PG_TIMEOUT_MS,
    zeroMeansNone: true,
    env: 'GOAL_BACKFILL_STATEMENT_TIMEOUT_MS',
    takenBy: ['runBackfill', 'rollbackBackfill'],
    commands: ['run'],
    describe: 'statement_timeout of the connection (0: none)',
  },
  /** `lock_timeout` of the connection, so app writes are never held up long. @default 5000 */
  lockTimeoutMs: {
    flag: 'lock-timeout-ms',
    placeholder: '<ms>',
    default: 5000,
    min: 0,
    max: MAX_PG_TIMEOUT_MS,
    env: 'GOAL_BACKFILL_LOCK_TIMEOUT_MS',
    takenBy: ['runBackfill', 'rollbackBackfill'],
    commands: ['run'],
    describe: 'lock_timeout of the connection, so app writes are never held up long',
  },
  /** Attempts for a page that meets a transient error (deadlock, serialization, lock timeout). @default 5 */
  maxAttempts: {
    flag: 'max-attempts',
    placeholder: '<n>',
    default: 5,
    min: 1,
    max: 100,
    takenBy: ['runBackfill'],
    commands: [],
    describe: 'Attempts for a page that meets a deadlock, serialization failure or lock timeout',
  },
  /** Milliseconds to wait after each page, to leave the database to live traffic. @default 0 */
  pauseMs: {
    flag: 'pause-ms',
    placeholder: '<ms>',
    default: 0,
    min: 0,
    max: 3_600_000,
    env: 'GOAL_BACKFILL_PAUSE_MS',
    takenBy: ['runBackfill'],
    commands: ['run'],
    describe: 'Wait after each page, to leave room for live traffic',
  },
  /** Sessions per second not to exceed (pages wait as needed); 0 for no limit. @default 0 */
  maxSessionsPerSecond: {
    flag: 'max-sessions-per-second',
    placeholder: '<n>',
    default: 0,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    env: 'GOAL_BACKFILL_MAX_SESSIONS_PER_SECOND',
    takenBy: ['runBackfill'],
    commands: ['run'],
    describe: 'Sessions per second not to exceed; pages wait as needed (0: no limit)',
  },
  /**
   * Extra milliseconds to wait after a page when the database is under strain: app queries
   * waited on the page's locks, or the replicas' replay lag is above `maxReplicationLagMs`.
   * 0 never backs off on those signals. @default 1000
   */
  backoffMs: {
    flag: 'backoff-ms',
    placeholder: '<ms>',
    default: 1000,
    min: 0,
    max: 600_000,
    env: 'GOAL_BACKFILL_BACKOFF_MS',
    takenBy: ['runBackfill'],
    commands: ['run'],
    describe:
      'Extra wait after a page that app queries waited on, or while replicas lag (0: never back off)',
  },
  /** Replay lag of the server's replicas above which each page backs off; 0 for no check. @default 10000 */
  maxReplicationLagMs: {
    flag: 'max-replication-lag-ms',
    placeholder: '<ms>',
    default: 10_000,
    min: 0,
    max: 86_400_000,
    env: 'GOAL_BACKFILL_MAX_REPLICATION_LAG_MS',
    takenBy: ['runBackfill'],
    commands: ['run'],
    describe: 'Replay lag of the replicas above which each page backs off (0: no check)',
  },
  /**
   * Connections that backfill at once. The sessions are split among them by patient, so every
   * (patient, description) pair belongs to one worker and deduplication stays exact. The Knex
   * pool must allow this many connections (PGlite has one). @default 1
   */
  workers: {
    flag: 'workers',
    placeholder: '<n>',
    default: 1,
    min: 1,
    // Each worker holds one of the server's connections for the whole run; more crowd out the app.
    max: 16,
    env: 'GOAL_BACKFILL_WORKERS',
    takenBy: ['runBackfill'],
    commands: ['run'],
    describe:
      'Connections that backfill at once, each taking a share of the patients (needs a PostgreSQL server)',
  },
  /** How many recent runs the status lists. @default 10 */
  limit: {
    flag: 'limit',
    placeholder: '<n>',
    default: 10,
    min: 1,
    max: 1000,
    takenBy: ['getBackfillStatus'],
    commands: ['status'],
    describe: 'How many recent runs to list',
  },
} as const satisfies Record<string, OptionSpec>;

type Specs = typeof OPTION_SPECS;
export type OptionName = keyof Specs;

/** The names of the options `taker` takes, in the spec's order. */
export type OptionNameOf<T extends OptionTaker> = {
  [K in OptionName]: T extends Specs[K]['takenBy'][number] ? K : never;
}[OptionName];

/** The options `command` takes as flags. */
export type FlagNameOf<C extends OptionCommand> = {
  [K in OptionName]: C extends Specs[K]['commands'][number] ? K : never;
}[OptionName];

/** The options read from a GOAL_BACKFILL_* variable. */
export type EnvOptionName = {
  [K in OptionName]: Specs[K] extends { env: string } ? K : never;
}[OptionName];

/** The numeric options `taker` takes, each optional (their documentation is the spec's). */
export type NumericOptions<T extends OptionTaker> = {
  -readonly [K in keyof Specs as T extends Specs[K]['takenBy'][number] ? K : never]?: number;
};

const OPTION_NAMES = Object.keys(OPTION_SPECS) as OptionName[];

function specOf(name: OptionName): OptionSpec {
  return OPTION_SPECS[name];
}

/** The options `taker` takes, in the spec's order. */
export function optionsTakenBy<T extends OptionTaker>(taker: T): OptionNameOf<T>[] {
  return OPTION_NAMES.filter((name) => specOf(name).takenBy.includes(taker)) as OptionNameOf<T>[];
}

/** The options `command` takes as flags, in the spec's (and the help's) order. */
export function flagsOf<C extends OptionCommand>(command: C): FlagNameOf<C>[] {
  return OPTION_NAMES.filter((name) => specOf(name).commands.includes(command)) as FlagNameOf<C>[];
}

/** What `value` should have been, or null when it is acceptable. */
export function optionProblem(name: OptionName, value: unknown): string | null {
  const spec = specOf(name);
  if (value === undefined) return null;
  if (spec.zeroMeansNone && value === 0) return null;
  const ok =
    typeof value === 'number' && Number.isInteger(value) && value >= spec.min && value <= spec.max;
  if (ok) return null;
  const none = spec.zeroMeansNone ? '0 (none) or ' : '';
  const shown =
    typeof value === 'number' && Number.isNaN(value) ? 'something not a number' : String(value);
  const unit = spec.placeholder === '<ms>' ? ' of milliseconds' : '';
  return `must be ${none}a whole number${unit} from ${spec.min} to ${spec.max} (got ${shown})`;
}

/**
 * Reads a numeric option from the text a flag or a variable gave: decimal digits only, so `""`,
 * `0x10`, `1e3`, `+5`, `-1`, `5.0` and ` 5` are refused rather than read as some other number
 * (`Number` would read `""` as 0 and `0x10` as 16), then the option's range. Answers the value,
 * or `must be …` saying what it takes, with the text as given.
 */
export function parseOption(
  name: OptionName,
  text: string,
): { value: number; problem: null } | { value: undefined; problem: string } {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  const problem = optionProblem(name, value);
  if (problem === null) return { value, problem: null };
  return {
    value: undefined,
    problem: problem.replace(/\(got [^)]*\)$/, `(got ${JSON.stringify(text)})`),
  };
}

/**
 * Adds `<label> must be …` to `problems` unless `value` is undefined or within the option's
 * range. `label` is how the caller names it: the option, a `--flag` or a variable.
 */
export function checkOption(
  problems: string[],
  name: OptionName,
  value: unknown,
  label: string = name,
): void {
  const problem = optionProblem(name, value);
  if (problem !== null) problems.push(`${label} ${problem}`);
}

/** Adds a problem to `problems` for each numeric option of `taker` that `options` gives wrong. */
export function checkOptionsOf(
  problems: string[],
  taker: OptionTaker,
  options: Readonly<Partial<Record<OptionName, unknown>>>,
): void {
  for (const name of optionsTakenBy(taker)) checkOption(problems, name, options[name]);
}

/** The option's value, or its default when it was not given. */
export function optionOrDefault(name: OptionName, value: number | undefined): number {
  return value ?? OPTION_SPECS[name].default;
}

/** Every numeric option of `taker`, as given or else its default. */
export function numericOptionsOf<T extends OptionTaker>(
  taker: T,
  options: NumericOptions<T>,
): Required<NumericOptions<T>> {
  const given = options as Partial<Record<OptionName, number>>;
  return Object.fromEntries(
    optionsTakenBy(taker).map((name) => [name, optionOrDefault(name, given[name])]),
  ) as Required<NumericOptions<T>>;
}

/**
 * Adds a problem to `problems` unless `value` is undefined or a whole number from `min` to
 * `max`, for a number that is not one of the spec's options (the seed's). The message names
 * the option and the value, so it says what to fix.
 */
export function checkWholeNumber(
  problems: string[],
  name: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got ${String(value)})`);
  }
}

/** The longest name PostgreSQL keeps whole (NAMEDATALEN - 1 bytes); a longer one is cut. */
const MAX_IDENTIFIER_BYTES = 63;

/**
 * The one text option: the PostgreSQL schema that holds the app's tables (users,
 * therapy_sessions, treatment_goals) and this package's own. Named once, like the numeric
 * options: the CLI's flag, the variable the migrations, the seeds and the CLI read, and the
 * library's `schema` option all take it from here.
 */
export const SCHEMA_OPTION = {
  flag: 'schema',
  placeholder: '<name>',
  env: 'GOAL_BACKFILL_SCHEMA',
  describe:
    "PostgreSQL schema of the app's tables and this package's (default: the connection's search_path)",
} as const;

/**
 * What a schema name should have been, or null when it can be used: one schema, as spelled
 * in the catalog (no quotes, case kept), at most 63 bytes. A comma is refused, since it reads as
 * a search_path (`app,public`), which this setting is not.
 */
export function schemaNameProblem(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.trim() === '') {
    return `must name a schema (got ${JSON.stringify(value) ?? String(value)})`;
  }
  if (value !== value.trim()) {
    return `must be a schema name without spaces around it (got ${JSON.stringify(value)})`;
  }
  if (value.includes(',')) {
    return `must name one schema, not a search_path (got ${JSON.stringify(value)})`;
  }
  if (value.includes('\0') || Buffer.byteLength(value, 'utf8') > MAX_IDENTIFIER_BYTES) {
    return `must be a schema name of at most ${MAX_IDENTIFIER_BYTES} bytes (got ${JSON.stringify(value)})`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The environment: GOAL_BACKFILL_* for the migration and the seeds, which have no flags.
// ---------------------------------------------------------------------------------------------

type Env = Readonly<Record<string, string | undefined>>;

/** The variable that holds the backfill's own health query (SQL). */
export const HEALTH_QUERY_VARIABLE = 'GOAL_BACKFILL_HEALTH_QUERY';

/** The options the environment can set: those whose spec names a variable. */
const ENV_OPTIONS = OPTION_NAMES.filter(
  (name) => specOf(name).env !== undefined,
) as EnvOptionName[];

/** The numeric options of {@link BackfillEnv}: undefined when the variable is unset. */
type EnvNumericOptions = {
  -readonly [K in keyof Specs as Specs[K] extends { env: string } ? K : never]: number | undefined;
};

/**
 * Settings the migration and the seeds read from the environment, where they have no flags.
 * Each numeric option is undefined when its variable is unset, so the library's default applies.
 */
export interface BackfillEnv extends EnvNumericOptions {
  /** SQL run after every full page, answering milliseconds to wait. */
  healthQuery: string | undefined;
  /** The schema of the app's tables and this package's (GOAL_BACKFILL_SCHEMA). */
  schema: string | undefined;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** The variables {@link readBackfillEnv} reads, with what each sets. */
export const BACKFILL_ENV_VARIABLES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    ENV_OPTIONS.map((name) => {
      const spec = specOf(name);
      return [spec.env, `${spec.describe} (${spec.placeholder}, default ${spec.default})`];
    }),
  ),
  [HEALTH_QUERY_VARIABLE]:
    'SQL run after each full page; the first value of its first row is milliseconds to wait (default none)',
  [SCHEMA_OPTION.env]: SCHEMA_OPTION.describe,
  GOAL_BACKFILL_LOG_LEVEL: 'error, warn, info or debug (default info)',
  GOAL_BACKFILL_LOG_FORMAT: 'text or json (default text)',
};

/** A numeric variable's value, undefined when unset or empty, or the problem with it. */
function readEnvOption(
  env: Env,
  name: EnvOptionName,
): { value: number | undefined; problem: string | null } {
  const variable = specOf(name).env ?? '';
  // An environment cannot leave a variable out as a command line leaves out a flag: empty
  // (or blank) means unset here, and spaces around a value are dropped.
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return { value: undefined, problem: null };
  const { value, problem } = parseOption(name, raw);
  return { value, problem: problem === null ? null : `${variable} ${problem}` };
}

/**
 * GOAL_BACKFILL_SCHEMA: undefined when unset or blank (the connection's search_path applies), or
 * the problem with it. Spaces around it are dropped, as for every variable.
 */
export function schemaFromEnv(env: Env): { value: string | undefined; problem: string | null } {
  const raw = env[SCHEMA_OPTION.env]?.trim();
  if (raw === undefined || raw === '') return { value: undefined, problem: null };
  const problem = schemaNameProblem(raw);
  return problem === null
    ? { value: raw, problem: null }
    : { value: undefined, problem: `${SCHEMA_OPTION.env} ${problem}` };
}

/**
 * GOAL_BACKFILL_LOG_LEVEL and GOAL_BACKFILL_LOG_FORMAT where a bad value cannot be reported yet
 * (the knexfile, a fatal error's own line): each as set when valid, else its default.
 * {@link readBackfillEnv} reports a bad value with every other problem.
 */
export function logSettingsFromEnv(env: Env): { logLevel: LogLevel; logFormat: LogFormat } {
  const level = env.GOAL_BACKFILL_LOG_LEVEL;
  return {
    logLevel: (LOG_LEVELS as readonly (string | undefined)[]).includes(level)
      ? (level as LogLevel)
      : 'info',
    logFormat: env.GOAL_BACKFILL_LOG_FORMAT === 'json' ? 'json' : 'text',
  };
}

/**
 * GOAL_BACKFILL_WORKERS when it is set and valid, else 1. For sizing the pool before the
 * migration runs; {@link readBackfillEnv} reports a bad value with every other problem.
 */
export function workersFromEnv(env: Env): number {
  return readEnvOption(env, 'workers').value ?? OPTION_SPECS.workers.default;
}

/**
 * Reads the GOAL_BACKFILL_* variables once into a trusted shape, each checked against its
 * option's range. Unset variables stay undefined so the library's defaults apply. Throws
 * {@link ConfigError} listing every problem.
 */
export function readBackfillEnv(env: Env): BackfillEnv {
  const problems: string[] = [];
  const options = Object.fromEntries(
    ENV_OPTIONS.map((name) => {
      const { value, problem } = readEnvOption(env, name);
      if (problem !== null) problems.push(problem);
      return [name, value];
    }),
  ) as Record<EnvOptionName, number | undefined>;
  const healthQuery = env[HEALTH_QUERY_VARIABLE];
  if (healthQuery !== undefined && healthQuery.trim() === '') {
    problems.push(
      `${HEALTH_QUERY_VARIABLE} is blank: set it to SQL whose first value is milliseconds to ` +
        'wait, or unset it for none',
    );
  }
  const schema = schemaFromEnv(env);
  if (schema.problem !== null) problems.push(schema.problem);
  const level = env.GOAL_BACKFILL_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    problems.push(
      `GOAL_BACKFILL_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(level)})`,
    );
  }
  const format = env.GOAL_BACKFILL_LOG_FORMAT ?? 'text';
  if (format !== 'text' && format !== 'json') {
    problems.push(`GOAL_BACKFILL_LOG_FORMAT must be text or json (got ${JSON.stringify(format)})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...options,
    healthQuery,
    schema: schema.value,
    logLevel: level as LogLevel,
    logFormat: format as LogFormat,
  };
}

/** The settings of {@link BackfillEnv} that are backfill options, for `runBackfill`. */
export function backfillEnvOptions(
  settings: BackfillEnv,
): Omit<BackfillEnv, 'logLevel' | 'logFormat'> {
  const { logLevel: _level, logFormat: _format, ...options } = settings;
  return options;
}

// ---------------------------------------------------------------------------------------------
// The library: runBackfill's options, checked and with their defaults.
// ---------------------------------------------------------------------------------------------

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

/**
 * Options of `runBackfill`. Its numeric options (batchSize, lockWaitMs, workers, …) are those
 * of {@link OPTION_SPECS} that runBackfill takes, with their ranges and defaults there.
 */
export interface BackfillOptions extends NumericOptions<'runBackfill'> {
  /** Where the sessions and goals live. The backfill borrows one pooled connection and returns it. */
  knex: Knex;
  /** Receives structured events: ids, counts and durations, never health text. */
  logger: Logger;
  /** Count what a real run would do, and write nothing, not even bookkeeping. @default false */
  dryRun?: boolean;
  /** Who is running the backfill, as recorded in goal_backfill_runs. @default 'library' */
  invokedBy?: Invoker;
  /** Ignore an interrupted run's checkpoint and start over. @default false */
  fromStart?: boolean;
  /**
   * SQL run after every page whose first column of its first row is how many milliseconds to
   * wait (0 or less: none; at most 600000), for a health signal of your own. A query that fails
   * is logged with its SQLSTATE and does not stop the run. @default null
   */
  healthQuery?: string | null;
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

/**
 * The numeric options of `taker` as given or else their defaults, once every one is within its
 * range and `options.schema` is a usable name. Throws one {@link ConfigError} listing every
 * problem: the numeric options', then `moreProblems` (what only the caller can check), then the
 * schema's.
 */
export function checkedOptionsOf<T extends OptionTaker>(
  taker: T,
  options: NumericOptions<T> & { readonly schema?: string | undefined },
  moreProblems: readonly string[] = [],
): Required<NumericOptions<T>> {
  const problems: string[] = [];
  checkOptionsOf(problems, taker, options as Partial<Record<OptionName, unknown>>);
  problems.push(...moreProblems);
  const schemaProblem = schemaNameProblem(options.schema);
  if (schemaProblem !== null) problems.push(`schema ${schemaProblem}`);
  if (problems.length > 0) throw new ConfigError(problems);
  return numericOptionsOf(taker, options);
}

/** Validates options and applies defaults. Throws {@link ConfigError} listing every problem. */
export function resolveBackfillOptions(options: BackfillOptions): ResolvedBackfillOptions {
  const problems: string[] = [];
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
  return {
    ...checkedOptionsOf('runBackfill', options, problems),
    knex: options.knex,
    logger: options.logger,
    dryRun: options.dryRun ?? false,
    invokedBy: options.invokedBy ?? 'library',
    fromStart: options.fromStart ?? false,
    healthQuery: options.healthQuery ?? null,
    logSessionDecisions: options.logSessionDecisions ?? false,
    signal: options.signal,
    onProgress: options.onProgress,
    onSessionFailed: options.onSessionFailed,
    runner: options.runner ?? `${hostname()} pid ${process.pid}`,
    schema: options.schema ?? null,
  };
}

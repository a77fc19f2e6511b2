import { ConfigError } from '../errors/config-error';
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../logging/create-logger';
import {
  OPTION_SPECS,
  type OptionName,
  parseOption,
  SCHEMA_OPTION,
  schemaNameProblem,
} from './option-spec';

/** The variable that holds the backfill's own health query (SQL). */
export const HEALTH_QUERY_VARIABLE = 'GOAL_BACKFILL_HEALTH_QUERY';

/** The options the environment can set, each read from its spec's `env` variable. */
const ENV_OPTIONS = [
  'batchSize',
  'statementTimeoutMs',
  'lockTimeoutMs',
  'lockWaitMs',
  'progressEvery',
  'pauseMs',
  'maxSessionsPerSecond',
  'backoffMs',
  'maxReplicationLagMs',
  'workers',
] as const satisfies readonly OptionName[];

type EnvOption = (typeof ENV_OPTIONS)[number];

/**
 * Settings the migration and the seeds read from the environment, where they have no flags.
 * Each option is undefined when its variable is unset, so the library's default applies.
 */
export interface BackfillEnv {
  batchSize: number | undefined;
  statementTimeoutMs: number | undefined;
  lockTimeoutMs: number | undefined;
  lockWaitMs: number | undefined;
  progressEvery: number | undefined;
  pauseMs: number | undefined;
  maxSessionsPerSecond: number | undefined;
  backoffMs: number | undefined;
  maxReplicationLagMs: number | undefined;
  workers: number | undefined;
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
      const spec = OPTION_SPECS[name];
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
  env: Readonly<Record<string, string | undefined>>,
  name: EnvOption,
): { value: number | undefined; problem: string | null } {
  const variable = OPTION_SPECS[name].env;
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
export function schemaFromEnv(env: Readonly<Record<string, string | undefined>>): {
  value: string | undefined;
  problem: string | null;
} {
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
export function logSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): {
  logLevel: LogLevel;
  logFormat: LogFormat;
} {
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
export function workersFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  return readEnvOption(env, 'workers').value ?? OPTION_SPECS.workers.default;
}

/**
 * Reads the GOAL_BACKFILL_* variables once into a trusted shape, each checked against its
 * option's range. Unset variables stay undefined so the library's defaults apply. Throws
 * {@link ConfigError} listing every problem.
 */
export function readBackfillEnv(env: Readonly<Record<string, string | undefined>>): BackfillEnv {
  const problems: string[] = [];
  const options = Object.fromEntries(
    ENV_OPTIONS.map((name) => {
      const { value, problem } = readEnvOption(env, name);
      if (problem !== null) problems.push(problem);
      return [name, value];
    }),
  ) as Record<EnvOption, number | undefined>;
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

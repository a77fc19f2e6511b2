import { ConfigError } from '../errors/config-error';
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../logging/create-logger';
import { OPTION_SPECS, type OptionName, optionProblem } from './option-spec';

/** Settings the migration and the seeds read from the environment, where they have no flags. */
export interface BackfillEnv {
  batchSize: number | undefined;
  statementTimeoutMs: number | undefined;
  lockTimeoutMs: number | undefined;
  lockWaitMs: number | undefined;
  progressEvery: number | undefined;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** The options the environment can set, each read from its spec's `env` variable. */
const ENV_OPTIONS = [
  'batchSize',
  'statementTimeoutMs',
  'lockTimeoutMs',
  'lockWaitMs',
  'progressEvery',
] as const satisfies readonly OptionName[];

/** The variables {@link readBackfillEnv} reads, with what each sets. */
export const BACKFILL_ENV_VARIABLES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    ENV_OPTIONS.map((name) => {
      const spec = OPTION_SPECS[name];
      return [spec.env, `${spec.describe} (${spec.placeholder}, default ${spec.default})`];
    }),
  ),
  GOAL_BACKFILL_LOG_LEVEL: 'error, warn, info or debug (default info)',
  GOAL_BACKFILL_LOG_FORMAT: 'text or json (default text)',
};

/**
 * Reads the GOAL_BACKFILL_* variables once into a trusted shape, each checked against its
 * option's range. Unset variables stay undefined so the library's defaults apply. Throws
 * {@link ConfigError} listing every problem.
 */
export function readBackfillEnv(env: Readonly<Record<string, string | undefined>>): BackfillEnv {
  const problems: string[] = [];
  const integer = (name: (typeof ENV_OPTIONS)[number]): number | undefined => {
    const variable = OPTION_SPECS[name].env;
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    const problem = optionProblem(name, value);
    if (problem === null) return value;
    problems.push(
      `${variable} ${problem.replace(/\(got [^)]*\)$/, `(got ${JSON.stringify(raw)})`)}`,
    );
    return undefined;
  };
  const settings = {
    batchSize: integer('batchSize'),
    statementTimeoutMs: integer('statementTimeoutMs'),
    lockTimeoutMs: integer('lockTimeoutMs'),
    lockWaitMs: integer('lockWaitMs'),
    progressEvery: integer('progressEvery'),
  };
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
  return { ...settings, logLevel: level as LogLevel, logFormat: format as LogFormat };
}

import { ConfigError } from '../errors/config-error';
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../logging/create-logger';

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

/** The variables {@link readBackfillEnv} reads, with what each sets. */
export const BACKFILL_ENV_VARIABLES = {
  GOAL_BACKFILL_BATCH_SIZE: 'sessions per page (default 5000)',
  GOAL_BACKFILL_STATEMENT_TIMEOUT_MS: 'statement_timeout of the backfill (default 120000)',
  GOAL_BACKFILL_LOCK_TIMEOUT_MS: 'lock_timeout of the backfill (default 5000)',
  GOAL_BACKFILL_LOCK_WAIT_MS: 'wait for another backfill to finish (default 60000 in migrations)',
  GOAL_BACKFILL_PROGRESS_EVERY: 'sessions between progress lines (default 100000)',
  GOAL_BACKFILL_LOG_LEVEL: 'error, warn, info or debug (default info)',
  GOAL_BACKFILL_LOG_FORMAT: 'text or json (default text)',
} as const;

/**
 * Reads the GOAL_BACKFILL_* variables once into a trusted shape. Unset variables stay
 * undefined so the library's defaults apply. Throws {@link ConfigError} listing every problem.
 */
export function readBackfillEnv(env: Readonly<Record<string, string | undefined>>): BackfillEnv {
  const problems: string[] = [];
  const integer = (name: keyof typeof BACKFILL_ENV_VARIABLES): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    if (!/^\d+$/.test(raw.trim())) {
      problems.push(`${name} must be a whole number, 0 or more (got ${JSON.stringify(raw)})`);
      return undefined;
    }
    return Number(raw.trim());
  };
  const settings = {
    batchSize: integer('GOAL_BACKFILL_BATCH_SIZE'),
    statementTimeoutMs: integer('GOAL_BACKFILL_STATEMENT_TIMEOUT_MS'),
    lockTimeoutMs: integer('GOAL_BACKFILL_LOCK_TIMEOUT_MS'),
    lockWaitMs: integer('GOAL_BACKFILL_LOCK_WAIT_MS'),
    progressEvery: integer('GOAL_BACKFILL_PROGRESS_EVERY'),
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

import { type BackfillEnv, readBackfillEnv } from '../config/backfill-env';
import { ConfigError } from '../errors/config-error';
import { DEFAULT_SEED_SESSIONS, MAX_SEED_SESSIONS } from './seed-options';

/** The variable that sets how many sessions `npx knex seed:run` generates. */
export const SEED_SESSIONS_VARIABLE = 'SEED_SESSIONS';

/** What the seeds read from the environment, where they have no flags. */
export interface SeedSettings {
  sessions: number;
  /** The GOAL_BACKFILL_* settings, for the backfill that follows and for the log. */
  backfill: BackfillEnv;
}

function readSessions(raw: string | undefined, problems: string[]): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEED_SESSIONS;
  const value = raw.trim();
  const sessions = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(sessions >= 1 && sessions <= MAX_SEED_SESSIONS)) {
    const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    problems.push(
      `${SEED_SESSIONS_VARIABLE} must be a whole number from 1 to ${MAX_SEED_SESSIONS}, ` +
        `e.g. ${SEED_SESSIONS_VARIABLE}=${DEFAULT_SEED_SESSIONS} (got ${shown})`,
    );
  }
  return sessions;
}

/**
 * Reads SEED_SESSIONS (default 2000) and the GOAL_BACKFILL_* variables once. Throws
 * {@link ConfigError} naming every bad variable and what to set instead.
 */
export function readSeedSettings(env: Readonly<Record<string, string | undefined>>): SeedSettings {
  const problems: string[] = [];
  const sessions = readSessions(env[SEED_SESSIONS_VARIABLE], problems);
  let backfill: BackfillEnv | undefined;
  try {
    backfill = readBackfillEnv(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || backfill === undefined) throw new ConfigError(problems);
  return { sessions, backfill };
}

import type { Knex } from 'knex';
import { ConfigError } from '../errors';
import type { Logger } from '../logging';
import { type BackfillEnv, checkWholeNumber, readBackfillEnv } from '../options';

/**
 * What one seeding is asked for: the library's options with their defaults and ranges, and
 * what the seed file reads from the environment (SEED_SESSIONS and the GOAL_BACKFILL_*
 * variables). Both are checked once here, every problem reported together.
 */

/** Sessions a seed generates when nobody says otherwise. */
export const DEFAULT_SEED_SESSIONS = 2000;
/** The most sessions one seed generates (about five minutes on two cores). */
export const MAX_SEED_SESSIONS = 10_000_000;
/** The seed of Faker and of the SQL hashes when nobody says otherwise. */
export const DEFAULT_SEED = 20_261_123;
/** Insert statements that run at once when nobody says otherwise: one per core of a small machine. */
export const DEFAULT_SEED_CONCURRENCY = 2;
/** Sessions one insert statement generates, about: big enough to amortise planning, small enough to spread over cores. @default 125000 */
export const SESSIONS_PER_CHUNK = 125_000;

/** Options of {@link seedDatabase}. */
export interface SeedDatabaseOptions {
  /** The database to fill. Seeding borrows up to `concurrency` pooled connections. */
  knex: Knex;
  /** Receives ids, counts and durations, never generated text. */
  logger: Logger;
  /** Sessions to generate, from 1 to {@link MAX_SEED_SESSIONS}. @default 2000 */
  sessions?: number;
  /** Seeds Faker and the SQL hashes: the same seed and size give the same rows. @default 20261123 */
  seed?: number;
  /** Insert statements running at once, each on its own connection; 1 for a single-connection database. @default 2 */
  concurrency?: number;
  /** About how many sessions one insert statement generates; never changes the rows, only who writes them. @default 125000 */
  sessionsPerChunk?: number;
}

/** {@link SeedDatabaseOptions} after validation, with every default applied. */
export type ResolvedSeedOptions = Required<SeedDatabaseOptions>;

/** Validates options and applies defaults. Throws {@link ConfigError} listing every problem. */
export function resolveSeedOptions(options: SeedDatabaseOptions): ResolvedSeedOptions {
  const problems: string[] = [];
  checkWholeNumber(problems, 'sessions', options.sessions, 1, MAX_SEED_SESSIONS);
  checkWholeNumber(problems, 'seed', options.seed, 0, 2_147_483_647);
  checkWholeNumber(problems, 'concurrency', options.concurrency, 1, 16);
  checkWholeNumber(problems, 'sessionsPerChunk', options.sessionsPerChunk, 1, MAX_SEED_SESSIONS);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    knex: options.knex,
    logger: options.logger,
    sessions: options.sessions ?? DEFAULT_SEED_SESSIONS,
    seed: options.seed ?? DEFAULT_SEED,
    concurrency: options.concurrency ?? DEFAULT_SEED_CONCURRENCY,
    sessionsPerChunk: options.sessionsPerChunk ?? SESSIONS_PER_CHUNK,
  };
}

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

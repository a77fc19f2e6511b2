import type { Knex } from 'knex';
import { checkWholeNumber } from '../config/check-whole-number';
import { ConfigError } from '../errors/config-error';
import type { Logger } from '../logging/logger';
import { SESSIONS_PER_CHUNK } from './patient-chunks';

/** Sessions a seed generates when nobody says otherwise. */
export const DEFAULT_SEED_SESSIONS = 2000;
/** The most sessions one seed generates (about five minutes on two cores). */
export const MAX_SEED_SESSIONS = 10_000_000;
/** The seed of Faker and of the SQL hashes when nobody says otherwise. */
export const DEFAULT_SEED = 20_261_123;
/** Insert statements that run at once when nobody says otherwise: one per core of a small machine. */
export const DEFAULT_SEED_CONCURRENCY = 2;

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

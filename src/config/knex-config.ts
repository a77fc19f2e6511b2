import type { Knex } from 'knex';
import { ConfigError } from '../errors/config-error';
import { createLogger } from '../logging/create-logger';
import { knexLogHooks } from '../logging/knex-log-hooks';
import { CHAIN_MIGRATIONS_TABLE } from '../schema/tables';
import { logSettingsFromEnv, schemaFromEnv, workersFromEnv } from './backfill-env';
import { parseDatabaseUrl } from './database-url';
import { embeddedDataDirectory, embeddedKnexConfig } from './embedded-database';

/** The environments knexfile.ts defines. */
export const KNEX_ENVIRONMENTS = ['development', 'test', 'production'] as const;
export type KnexEnvironment = (typeof KNEX_ENVIRONMENTS)[number];

/** Where the project keeps its migrations, its seeds and its embedded database. */
export interface ProjectPaths {
  migrations: string;
  seeds: string;
  /**
   * The embedded PGlite database's folder when GOAL_BACKFILL_DATA_DIR is unset; used only when
   * no URL is set (never in production).
   */
  embeddedData: string;
}

/** How many workers a backfill on this connection will run, and the setting that asked for them. */
export interface WorkersSetting {
  workers: number;
  /** The setting as written, to name it in a refusal: `--workers 2`, `GOAL_BACKFILL_WORKERS=2`. */
  setting: string;
}

const ONE_WORKER: WorkersSetting = { workers: 1, setting: '' };

/**
 * Pool connections a backfill of `workers` workers may hold at once: one per worker, one for
 * the run's lock and record when there are several, and one for reads beside the run.
 */
export function backfillPoolSize(workers: number): number {
  return workers > 1 ? workers + 2 : 2;
}

/**
 * The connection part of a Knex configuration, from the environment. Without a URL it is the
 * embedded database in GOAL_BACKFILL_DATA_DIR, or in `embeddedData` when that is unset. More
 * than one worker on the embedded database, which has a single connection, is refused here,
 * before it is opened, as is an empty GOAL_BACKFILL_DATA_DIR.
 */
export function connectionConfigFor(
  environment: KnexEnvironment,
  env: Readonly<Record<string, string | undefined>>,
  embeddedData: string,
  { workers, setting }: WorkersSetting = ONE_WORKER,
): Knex.Config {
  const variable =
    environment === 'test' && env.TEST_DATABASE_URL !== undefined
      ? 'TEST_DATABASE_URL'
      : 'DATABASE_URL';
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') {
    if (environment === 'production') {
      throw new ConfigError([
        'DATABASE_URL is not set: production never falls back to the embedded database; ' +
          'set DATABASE_URL=postgres://user:password@host:5432/database',
      ]);
    }
    if (workers > 1) {
      throw new ConfigError([
        `${setting}: more than one worker needs a PostgreSQL server, and the embedded database ` +
          'has a single connection; set DATABASE_URL=postgres://user:password@host:5432/database, ' +
          'or run one worker',
      ]);
    }
    return embeddedKnexConfig(embeddedDataDirectory(env, embeddedData));
  }
  const { connectionString } = parseDatabaseUrl(raw, variable);
  return {
    client: 'pg',
    connection: { connectionString, application_name: 'goal-backfill' },
    pool: { min: 0, max: Math.max(4, backfillPoolSize(workers)) },
  };
}

/**
 * The Knex configuration for one environment: the server at DATABASE_URL (TEST_DATABASE_URL
 * first for `test`), or, when none is set outside production, the embedded database. Its pool
 * fits GOAL_BACKFILL_WORKERS, which the embedded database refuses above 1. GOAL_BACKFILL_SCHEMA
 * becomes its `searchPath` and the schema of its migrations table; Knex's lines follow
 * GOAL_BACKFILL_LOG_LEVEL and GOAL_BACKFILL_LOG_FORMAT.
 */
export function knexConfigFor(
  environment: KnexEnvironment,
  env: Readonly<Record<string, string | undefined>>,
  paths: ProjectPaths,
): Knex.Config {
  const workers = workersFromEnv(env);
  const setting = `GOAL_BACKFILL_WORKERS=${workers}`;
  const schema = schemaFromEnv(env);
  if (schema.problem !== null) throw new ConfigError([schema.problem]);
  const { logLevel, logFormat } = logSettingsFromEnv(env);
  return {
    // The embedded database sets its own: opening it is no network wait.
    acquireConnectionTimeout: 15_000,
    ...connectionConfigFor(environment, env, paths.embeddedData, { workers, setting }),
    // Every connection resolves names in the schema, and Knex keeps the chain's record there.
    ...(schema.value === undefined ? {} : { searchPath: [schema.value] }),
    // Knex's own lines in the format of every other line, without driver or server text.
    log: knexLogHooks(createLogger({ level: logLevel, format: logFormat })),
    migrations: {
      directory: paths.migrations,
      extension: 'ts',
      loadExtensions: ['.ts'],
      tableName: CHAIN_MIGRATIONS_TABLE,
      ...(schema.value === undefined ? {} : { schemaName: schema.value }),
    },
    seeds: { directory: paths.seeds, extension: 'ts', loadExtensions: ['.ts'] },
  };
}

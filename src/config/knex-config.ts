import type { Knex } from 'knex';
import { parseDatabaseUrl } from './database-url';

/** The environments knexfile.ts defines. */
export const KNEX_ENVIRONMENTS = ['development', 'test', 'production'] as const;
export type KnexEnvironment = (typeof KNEX_ENVIRONMENTS)[number];

/** Where migrations and seeds live, relative to the project root. */
export interface ProjectPaths {
  migrations: string;
  seeds: string;
}

/**
 * The Knex configuration for one environment. `test` prefers TEST_DATABASE_URL; every
 * environment otherwise reads DATABASE_URL. Throws a ConfigError saying what to set.
 */
export function knexConfigFor(
  environment: KnexEnvironment,
  env: Readonly<Record<string, string | undefined>>,
  paths: ProjectPaths,
): Knex.Config {
  const variable =
    environment === 'test' && env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL' : 'DATABASE_URL';
  const { connectionString } = parseDatabaseUrl(env[variable], variable);
  return {
    client: 'pg',
    connection: { connectionString, application_name: 'goal-backfill' },
    pool: { min: 0, max: 4 },
    acquireConnectionTimeout: 15_000,
    migrations: {
      directory: paths.migrations,
      extension: 'ts',
      loadExtensions: ['.ts'],
      tableName: 'knex_migrations',
    },
    seeds: { directory: paths.seeds, extension: 'ts', loadExtensions: ['.ts'] },
  };
}

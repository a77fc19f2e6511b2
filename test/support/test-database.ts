import { randomBytes } from 'node:crypto';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { inMemoryKnexConfig } from '../../src/config/embedded';
import { CHAIN_MIGRATIONS_TABLE } from '../../src/names';
import { resetData } from './backfill-assertions';

/**
 * Which PostgreSQL the suite runs on: the server (the primary target) or, with
 * TEST_DIALECT=pglite, a fresh in-memory PGlite per test file.
 */
export const TEST_DIALECT: 'server' | 'pglite' =
  process.env.TEST_DIALECT === 'pglite' ? 'pglite' : 'server';

/** True when the suite runs on the embedded PGlite: tests that need a server skip themselves. */
export const onPglite = TEST_DIALECT === 'pglite';

/** The server the tests use; TEST_DATABASE_URL may point elsewhere. */
export const TEST_SERVER_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const MIGRATIONS_DIRECTORY = path.join(__dirname, '..', '..', 'migrations');

/** A database created for one test file, dropped by {@link TestDatabase.drop}. */
export interface TestDatabase {
  name: string;
  /** The database's URL on the server; empty on PGlite, which has no URL. */
  url: string;
  knex: Knex;
  /** Runs the whole chain. */
  migrateLatest(): Promise<void>;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

function urlFor(database: string): string {
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Knex on the test server's maintenance database, for CREATE and DROP DATABASE. */
function adminKnex(): Knex {
  return knexFactory({ client: 'pg', connection: TEST_SERVER_URL, pool: { min: 0, max: 1 } });
}

export function knexFor(url: string, poolMax = 4): Knex {
  return knexFactory({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: poolMax },
    migrations: {
      directory: MIGRATIONS_DIRECTORY,
      loadExtensions: ['.ts'],
      tableName: CHAIN_MIGRATIONS_TABLE,
    },
  });
}

function createPgliteDatabase(name: string): TestDatabase {
  const knex = knexFactory({
    ...inMemoryKnexConfig(),
    migrations: {
      directory: MIGRATIONS_DIRECTORY,
      loadExtensions: ['.ts'],
      tableName: CHAIN_MIGRATIONS_TABLE,
    },
  });
  return {
    name,
    url: '',
    knex,
    async migrateLatest() {
      await knex.migrate.latest();
    },
    async drop() {
      await knex.destroy();
    },
  };
}

/** Creates a fresh, empty database for the calling test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `goal_backfill_test_${randomBytes(6).toString('hex')}`;
  if (onPglite) return createPgliteDatabase(name);
  const admin = adminKnex();
  try {
    await admin.raw(`CREATE DATABASE ${name}`);
  } finally {
    await admin.destroy();
  }
  const url = urlFor(name);
  const knex = knexFor(url);
  return {
    name,
    url,
    knex,
    async migrateLatest() {
      await knex.migrate.latest();
    },
    async drop() {
      await knex.destroy();
      const dropper = adminKnex();
      try {
        await dropper.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.destroy();
      }
    },
  };
}

/**
 * Gives the calling suite its own database: created and migrated before its tests, emptied
 * (users, sessions, goals, runs, failures) before each test, dropped after the last.
 */
export function useMigratedDatabase(onCreated: (database: TestDatabase) => void): void {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    await database.migrateLatest();
    onCreated(database);
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    if (database) await resetData(database.knex);
  });
}

import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { silentLogger } from '../../src/logging';
import { seedDatabase } from '../../src/seed';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';
import { seededDigests } from './seeded-data';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.migrateLatest();
});

afterAll(async () => {
  await db.drop();
});

/** Seeds (through `knex`, with `options`), backfills, and digests what is there. */
async function seedAndDigest(
  knex: Knex,
  options: {
    sessions?: number;
    seed?: number;
    concurrency?: number;
    sessionsPerChunk?: number;
  } = {},
) {
  await seedDatabase({ knex, logger: silentLogger, sessions: 3000, ...options });
  await runBackfill({ knex, logger: silentLogger, invokedBy: 'seed' });
  return seededDigests(db.knex);
}

describe('the same seed and size', () => {
  it('give byte-identical users, sessions and goals, ids included', async () => {
    const first = await seedAndDigest(db.knex);
    const again = await seedAndDigest(db.knex);
    expect(again).toEqual(first);
    expect(Object.values(first)).not.toContain('empty');
  });

  // Parallel chunks and a second pool with another time zone need a server.
  it.skipIf(onPglite)(
    'give the same rows however the inserts are split, and under another session time zone',
    async () => {
      const reference = await seedAndDigest(db.knex);
      expect(await seedAndDigest(db.knex, { sessionsPerChunk: 400, concurrency: 3 })).toEqual(
        reference,
      );
      expect(await seedAndDigest(db.knex, { sessionsPerChunk: 700, concurrency: 1 })).toEqual(
        reference,
      );
      const elsewhere = knexFactory({
        client: 'pg',
        connection: db.url,
        pool: {
          min: 0,
          max: 2,
          afterCreate: (
            connection: { query: (sql: string, done: (err?: Error) => void) => void },
            done: (err?: Error) => void,
          ) => connection.query("SET TIME ZONE 'Pacific/Chatham'", done),
        },
      });
      try {
        expect(await seedAndDigest(elsewhere)).toEqual(reference);
      } finally {
        await elsewhere.destroy();
      }
    },
  );
});

describe('another seed or size', () => {
  it('gives other data', async () => {
    const reference = await seedAndDigest(db.knex);
    const otherSeed = await seedAndDigest(db.knex, { seed: 1 });
    const otherSize = await seedAndDigest(db.knex, { sessions: 3001 });
    expect(otherSeed.sessions).not.toBe(reference.sessions);
    expect(otherSeed.users).not.toBe(reference.users);
    expect(otherSize.sessions).not.toBe(reference.sessions);
  });
});

import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_TIME_ZONE_SQL,
  PinnedConnection,
  RunConnection,
  type RunConnectionOptions,
} from '../../src/db/connection';
import { BackfillLockedError } from '../../src/errors';
import { silentLogger } from '../../src/logging';
import { onPglite, type TestDatabase, useMigratedDatabase } from '../support/test-database';

/**
 * A run's connection: the lead holds the backfill lock, and a second lead is refused naming the
 * holder; while held, the session's formats are pinned (DateStyle ISO; TimeZone stays the app's) with the
 * app's kept; given back, the connection has the app's settings again.
 */

let db: TestDatabase;
useMigratedDatabase((created) => {
  db = created;
});

const HOLDER_RUN = {
  runId: '00000000-0000-4000-8000-000000000001',
  invokedBy: 'cli',
  runner: 'host-a',
  startedAt: null,
};

function optionsFor(applicationName: string): RunConnectionOptions {
  return {
    settings: { statementTimeoutMs: 45_000, lockTimeoutMs: 1500, applicationName },
    lock: { waitMs: 0, describeHolder: async () => HOLDER_RUN },
    logger: silentLogger,
  };
}

/** A Knex whose pool has one connection, so that the connection given back is the next one lent. */
function onePool(): Knex {
  if (onPglite) return db.knex;
  return knexFactory({
    client: 'pg',
    connection: db.url,
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 5000,
  });
}

interface Settings {
  timezone: string;
  datestyle: string;
  intervalstyle: string;
  statement_timeout: string;
  lock_timeout: string;
  application_name: string;
  app_time_zone: string;
  pid: number;
}

const SETTINGS_SQL = `SELECT current_setting('TimeZone') AS timezone,
    current_setting('DateStyle') AS datestyle, current_setting('IntervalStyle') AS intervalstyle,
    current_setting('statement_timeout') AS statement_timeout,
    current_setting('lock_timeout') AS lock_timeout,
    current_setting('application_name') AS application_name,
    ${APP_TIME_ZONE_SQL} AS app_time_zone, pg_backend_pid() AS pid`;

async function settingsOf(knex: Knex, connection?: unknown): Promise<Settings> {
  const raw = await (connection === undefined
    ? knex.raw(SETTINGS_SQL)
    : knex.raw(SETTINGS_SQL).connection(connection));
  return raw.rows[0];
}

describe('RunConnection', () => {
  let knex: Knex;
  beforeAll(() => {
    knex = onePool();
  });
  afterAll(async () => {
    if (knex !== db.knex) await knex.destroy();
  });

  it("pins the formats while it holds the connection, keeps the app's zone, and gives the app's settings back", async () => {
    // The app's own session settings on the pool's one connection.
    await knex.raw("SET TimeZone = 'America/New_York'");
    await knex.raw("SET DateStyle = 'SQL, DMY'");
    await knex.raw("SET IntervalStyle = 'sql_standard'");
    const before = await settingsOf(knex);
    expect(before).toMatchObject({ timezone: 'America/New_York', datestyle: 'SQL, DMY' });

    const lead = await RunConnection.open(knex, optionsFor('goal-backfill-test'));
    expect(lead.role).toBe('lead');
    const [held] = await lead.db.rows<Settings>(SETTINGS_SQL);
    expect(held).toMatchObject({
      // What the app's triggers and a wall-clock updated_at stamp with now() is its own clock.
      timezone: 'America/New_York',
      datestyle: 'ISO, YMD',
      intervalstyle: 'postgres',
      statement_timeout: '45s',
      lock_timeout: '1500ms',
      application_name: 'goal-backfill-test',
      // Where a wall clock meets an instant, the app's zone counts.
      app_time_zone: 'America/New_York',
      pid: before.pid,
    });
    await lead.close();

    const after = await settingsOf(knex);
    expect(after).toEqual(before);
    await knex.raw('RESET ALL');
  });

  it.skipIf(onPglite)(
    'lets one lead hold the lock: a second is refused naming the holder, and gets it once given back',
    async () => {
      const other = onePool();
      try {
        await other.raw("SET TimeZone = 'Europe/Paris'");
        const otherBefore = await settingsOf(other);
        const first = await RunConnection.open(knex, optionsFor('lead-one'));
        const [{ pid } = { pid: -1 }] = await first.db.rows<{ pid: number }>(
          'SELECT pg_backend_pid() AS pid',
        );
        const refused = await RunConnection.open(other, optionsFor('lead-two')).catch(
          (e: unknown) => e,
        );
        expect(refused).toBeInstanceOf(BackfillLockedError);
        expect(refused).toMatchObject({
          code: 'LOCKED',
          holder: { pid, applicationName: 'lead-one', ...HOLDER_RUN },
        });
        expect((refused as Error).message).toContain(`run ${HOLDER_RUN.runId}`);
        expect((refused as Error).message).toContain(`backend pid ${pid}`);
        // The refused lead gave its connection back to the pool, with the app's settings.
        expect(await settingsOf(other)).toEqual(otherBefore);

        await first.close();
        const second = await RunConnection.open(other, optionsFor('lead-two'));
        const [locks] = await second.db.rows<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()`,
        );
        expect(locks?.n).toBeGreaterThan(0);
        await second.close();
        const [left] = (
          await db.knex.raw(
            `SELECT count(*)::int AS n FROM pg_locks
              WHERE locktype = 'advisory' AND granted
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          )
        ).rows;
        expect(left.n).toBe(0);
      } finally {
        await other.destroy();
      }
    },
  );
});

describe('PinnedConnection', () => {
  it('runs every statement and transaction on the one connection it holds', async () => {
    const connection = await db.knex.client.acquireConnection();
    try {
      const pinned = new PinnedConnection(db.knex, connection);
      const [first] = await pinned.rows<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await pinned.rows("SELECT set_config('goal_backfill.test_mark', 'kept', false)");
      const inTransaction = await pinned.transaction(async (trx) => {
        const { rows } = await trx.raw(
          "SELECT pg_backend_pid() AS pid, current_setting('goal_backfill.test_mark') AS mark",
        );
        return rows[0];
      });
      expect(inTransaction).toEqual({ pid: first?.pid, mark: 'kept' });
      await pinned.rows("SELECT set_config('goal_backfill.test_mark', '', false)");
    } finally {
      await db.knex.client.releaseConnection(connection);
    }
  });
});

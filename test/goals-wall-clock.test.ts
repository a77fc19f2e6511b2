import type { Knex } from 'knex';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../src/backfill/run';
import { silentLogger } from '../src/logging';
import { rollbackBackfill } from '../src/rollback';
import { getBackfillStatus } from '../src/status';
import { createAppOwnedTables } from './support/app-database';
import { APP_GOAL_TABLE } from './support/app-goal-table';
import { resetData } from './support/backfill-assertions';
import { insertSessions, insertUsers } from './support/fixtures';
import { verifyQueryRow } from './support/verify-sql';
import { createTestDatabase, knexFor, onPglite, type TestDatabase } from './support/test-database';

/**
 * An app whose treatment_goals keeps `updated_at` as a `timestamp without time zone` (a wall
 * clock) and whose database's TimeZone is not UTC. The backfill stamps the app's wall clock, as
 * the app's own `now()` does, and so do the app's triggers that fire on its inserts; the goals
 * count as unchanged, and a rollback takes every one back but a goal the app changed. Goals
 * stamped with UTC's wall clock, as versions that pinned the connection to UTC did, are taken
 * back too.
 */

let db: TestDatabase;

/** The app's goals as APP_GOAL_TABLE has them, but for a wall-clock updated_at and created_at. */
const WALL_CLOCK_GOAL_TABLE = APP_GOAL_TABLE.map((statement) =>
  statement
    .replace('created_at timestamptz', 'created_at timestamp')
    .replace('updated_at timestamptz', 'updated_at timestamp'),
);

beforeAll(async () => {
  db = await createTestDatabase();
  await createAppOwnedTables(db.knex);
  for (const statement of WALL_CLOCK_GOAL_TABLE) await db.knex.raw(statement);
  // The app's audit of its goals, stamped by its own trigger with its own clock.
  await db.knex.raw(
    `CREATE TABLE goal_audit (goal_id bigint NOT NULL, at timestamp NOT NULL DEFAULT now())`,
  );
  await db.knex.raw(
    `CREATE FUNCTION app_audit_goal() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN INSERT INTO goal_audit (goal_id) VALUES (NEW.id); RETURN NEW; END $$`,
  );
  await db.knex.raw(
    `CREATE TRIGGER treatment_goals_audit AFTER INSERT ON treatment_goals
       FOR EACH ROW EXECUTE FUNCTION app_audit_goal()`,
  );
  await db.migrateLatest();
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

let app: Knex | null = null;
beforeEach(async () => {
  await resetData(db.knex);
  await db.knex.raw('DELETE FROM goal_audit');
});

async function closeApp(): Promise<void> {
  if (app && app !== db.knex) await app.destroy();
  app = null;
  if (onPglite) await db.knex.raw('RESET ALL');
  else await db.knex.raw(`ALTER DATABASE ${db.name} RESET ALL`);
}

/** A Knex whose connections start in `zone`, as the app's do once its database says so. */
async function appIn(zone: string): Promise<Knex> {
  expect(zone).toMatch(/^[A-Za-z_/]+$/);
  if (onPglite) {
    await db.knex.raw(`SET TimeZone = '${zone}'`);
    return db.knex;
  }
  await db.knex.raw(`ALTER DATABASE ${db.name} SET TimeZone = '${zone}'`);
  return knexFor(db.url);
}

const TASKS = ['Walk daily', 'Sleep log', 'Call a friend', 'Breathing'];

async function insertPractice(): Promise<void> {
  const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
  await insertSessions(
    db.knex,
    TASKS.map((task, i) => ({
      patientId: patient,
      sessionDate: `2024-0${i + 1}-10T10:00:00Z`,
      notes: { action_items: [{ task }] },
    })),
  );
}

/** How many of the rows read the app's own wall clock, to the 10 minutes, on its connection. */
async function onAppClock(knex: Knex, table: string, column: string, where = 'true') {
  const { rows } = await knex.raw<{ rows: { n: number; near: number }[] }>(
    `SELECT count(*)::int AS n,
            count(*) FILTER (WHERE abs(extract(epoch FROM ${column} - localtimestamp)) < 600)::int AS near
       FROM ${table} WHERE ${where}`,
  );
  return rows[0];
}

describe('a wall-clock updated_at in an app whose zone is not UTC', () => {
  it.each(['Asia/Kolkata', 'America/New_York', 'Pacific/Kiritimati'])(
    'reads the app’s clock in %s, counts as unchanged, and a rollback takes it back',
    async (zone) => {
      try {
        app = await appIn(zone);
        await insertPractice();
        const run = await runBackfill({ knex: app, logger: silentLogger, batchSize: 2 });
        expect(run).toMatchObject({ outcome: 'completed', goalsCreated: TASKS.length });

        // What the app reads on its own connection: its wall clock, in the goals and its audit.
        const n = TASKS.length;
        expect(
          await onAppClock(app, 'treatment_goals', 'updated_at', "origin = 'backfill'"),
        ).toEqual({ n, near: n });
        expect(await onAppClock(app, 'goal_audit', 'at')).toEqual({ n, near: n });

        const status = await getBackfillStatus({ knex: app });
        expect(status.goals).toMatchObject({ unchangedBackfill: n, changedBackfill: 0 });
        // The documented verify query, as an operator runs it in the app's zone, agrees.
        const verified = await verifyQueryRow(app, 1);
        expect([verified.backfilled_unchanged, verified.backfilled_changed].map(Number)).toEqual([
          n,
          0,
        ]);

        // The app changes one goal; its own trigger stamps updated_at.
        await app.raw(
          `UPDATE treatment_goals SET status = 'in_progress'
            WHERE id = (SELECT min(id) FROM treatment_goals WHERE origin = 'backfill')`,
        );
        const rollback = await rollbackBackfill({ knex: app, logger: silentLogger });
        expect(rollback).toMatchObject({ deleted: n - 1, keptChanged: 1 });
        const left = await db.knex.raw<{ rows: { origin: string | null; status: string }[] }>(
          'SELECT origin, CAST(status AS text) AS status FROM treatment_goals',
        );
        expect(left.rows).toEqual([{ origin: 'backfill', status: 'in_progress' }]);
        expect((await onAppClock(db.knex, 'goal_audit', 'at'))?.n).toBe(n);
      } finally {
        await closeApp();
      }
    },
  );

  it('takes back goals stamped with UTC’s wall clock, as versions pinned to UTC wrote them', async () => {
    try {
      app = await appIn('Asia/Kolkata');
      await insertPractice();
      const run = await runBackfill({ knex: app, logger: silentLogger, batchSize: 2 });
      expect(run.goalsCreated).toBe(TASKS.length);
      // The goals as an earlier version left them: updated_at UTC's wall clock at backfilled_at.
      // Written with triggers off, so nothing of the package's sees it as the app's change.
      await db.knex.transaction(async (trx) => {
        await trx.raw('SET LOCAL session_replication_role = replica');
        await trx.raw(
          `UPDATE treatment_goals SET updated_at = backfilled_at AT TIME ZONE 'UTC'
            WHERE origin = 'backfill'`,
        );
      });
      const { rows } = await app.raw<{ rows: { n: number }[] }>(
        `SELECT count(*)::int AS n FROM treatment_goals
          WHERE origin = 'backfill' AND clinician_touched_at IS NULL
            AND updated_at = backfilled_at AT TIME ZONE 'UTC'
            AND updated_at <> backfilled_at AT TIME ZONE 'Asia/Kolkata'`,
      );
      expect(rows[0]?.n).toBe(TASKS.length);

      expect(Number((await verifyQueryRow(app, 1)).backfilled_unchanged)).toBe(TASKS.length);
      const rollback = await rollbackBackfill({ knex: app, logger: silentLogger });
      expect(rollback).toMatchObject({ deleted: TASKS.length, keptChanged: 0 });
      const left = await db.knex.raw<{ rows: { n: number }[] }>(
        'SELECT count(*)::int AS n FROM treatment_goals',
      );
      expect(left.rows[0]?.n).toBe(0);
    } finally {
      await closeApp();
    }
  });
});

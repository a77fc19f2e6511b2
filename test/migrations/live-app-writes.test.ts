import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { completedMigrations, createAppOwnedTables } from '../support/app-database';
import { createAppGoalTable, tableDefinition } from '../support/app-goal-table';
import { insertUsers } from '../support/fixtures';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

/**
 * The schema migration on a live app: while a transaction of the app keeps therapy_sessions
 * written and open, the migration's index builds wait for it, and the app's other writes to
 * therapy_sessions and treatment_goals go on completing meanwhile. Each of them runs under a
 * statement_timeout, the bound: a write queued behind the migration's lock would fail it.
 */

const APP_WRITE_BOUND_MS = 1000;

let db: TestDatabase;
const clients: Client[] = [];

async function appConnection(): Promise<Client> {
  const client = new Client({ connectionString: db.url, application_name: 'the app' });
  await client.connect();
  clients.push(client);
  await client.query(`SET statement_timeout = ${APP_WRITE_BOUND_MS}`);
  return client;
}

beforeEach(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => {});
  await db.drop();
});

/** The migration's backends waiting on a lock while they build an index concurrently. */
async function indexBuildsWaiting(): Promise<number> {
  const { rows } = await db.knex.raw<{ rows: { n: string }[] }>(
    `SELECT count(*) AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'
        AND query ILIKE 'CREATE INDEX CONCURRENTLY%'`,
  );
  return Number(rows[0]?.n);
}

describe.skipIf(onPglite)('the schema migration on a live app', () => {
  it("builds its indexes while the app's writes keep completing, and waits for the app's open transaction", async () => {
    await createAppOwnedTables(db.knex);
    await createAppGoalTable(db.knex);
    const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
    await db.knex.migrate.up();
    const before = await tableDefinition(db.knex, 'treatment_goals');

    // A transaction of the app that writes therapy_sessions and stays open.
    const holder = await appConnection();
    await holder.query('BEGIN');
    await holder.query(
      `INSERT INTO therapy_sessions (id, patient_id, session_date) VALUES ($1, $2, now())`,
      [randomUUID(), patient],
    );

    process.env.GOAL_BACKFILL_LOCK_TIMEOUT_MS = '60000';
    const migration = db.knex.migrate.up().finally(() => {
      delete process.env.GOAL_BACKFILL_LOCK_TIMEOUT_MS;
    });
    migration.catch(() => {});
    for (let tries = 0; (await indexBuildsWaiting()) === 0; tries += 1) {
      if (tries > 400) throw new Error('the index build never waited for the open transaction');
      await delay(50);
    }

    // Meanwhile the app writes both tables; each write must finish within the bound.
    const app = await appConnection();
    for (let i = 0; i < 10; i += 1) {
      await app.query(
        `INSERT INTO therapy_sessions (id, patient_id, session_date, extracted_notes)
         VALUES ($1, $2, now(), '{"action_items": []}')`,
        [randomUUID(), patient],
      );
      await app.query('INSERT INTO treatment_goals (patient_id, description) VALUES ($1, $2)', [
        patient,
        `Goal ${i}`,
      ]);
      await app.query('UPDATE treatment_goals SET details = $1 WHERE description = $2', [
        'note',
        `Goal ${i}`,
      ]);
    }
    expect(await indexBuildsWaiting()).toBe(1);

    await holder.query('COMMIT');
    await migration;
    expect(await completedMigrations(db.knex)).toEqual([
      '20261101000000_create_app_tables.ts',
      '20261101000001_create_treatment_goals.ts',
    ]);
    const after = await tableDefinition(db.knex, 'treatment_goals');
    expect(after.indexes.filter((index) => index.includes('INVALID'))).toEqual([]);
    expect(after.indexes.length).toBe(before.indexes.length + 1);
    const { rows } = await db.knex.raw<{ rows: { valid: boolean }[] }>(
      `SELECT indisvalid AS valid FROM pg_index
        WHERE indexrelid = to_regclass('therapy_sessions_patient_date_id_idx')`,
    );
    expect(rows).toEqual([{ valid: true }]);
  });
});

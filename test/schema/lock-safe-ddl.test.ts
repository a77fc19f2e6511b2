import { Client } from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchemaChangeBlockedError } from '../../src/errors';
import { createGoalSchema } from '../../src/schema/goal-schema';
import { createAppOwnedTables } from '../support/app-database';
import { createAppGoalTable, tableDefinition } from '../support/app-goal-table';
import { insertUsers } from '../support/fixtures';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

/**
 * A change to the app's treatment_goals while a transaction of the app holds the table: each
 * try waits at most lock_timeout, so the app's writes queued behind it wait at most that long,
 * and after the last try the change is given up with a one-line error naming who held the table.
 */

const SETTINGS = { lockTimeoutMs: 150, statementTimeoutMs: 10_000, attempts: 3 };

let db: TestDatabase;
const clients: Client[] = [];

async function connect(): Promise<Client> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  clients.push(client);
  return client;
}

beforeEach(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => {});
  await db.drop();
});

describe.skipIf(onPglite)('a schema change on a table the app holds', () => {
  it('waits at most lock_timeout a try, lets the app write meanwhile, gives up naming the holder, and completes when run again', async () => {
    await createAppOwnedTables(db.knex);
    await createAppGoalTable(db.knex);
    const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
    const before = await tableDefinition(db.knex, 'treatment_goals');
    const holder = await connect();
    await holder.query('BEGIN');
    await holder.query('SELECT count(*) FROM treatment_goals');
    const holderPid = Number((await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);

    const change = createGoalSchema(db.knex, SETTINGS).catch((e: unknown) => e);
    // The app's writes while the change tries: each must finish within a second.
    const app = await connect();
    await app.query('SET statement_timeout = 1000');
    let writes = 0;
    let settled = false;
    void change.then(() => {
      settled = true;
    });
    while (!settled) {
      await app.query('INSERT INTO treatment_goals (patient_id, description) VALUES ($1, $2)', [
        patient,
        `Goal ${writes}`,
      ]);
      writes += 1;
    }
    const error = await change;

    expect(error).toBeInstanceOf(SchemaChangeBlockedError);
    expect(error).toMatchObject({
      code: 'SCHEMA_CHANGE_BLOCKED',
      table: 'treatment_goals',
      attempts: 3,
    });
    expect((error as SchemaChangeBlockedError).blockingPids).toContain(holderPid);
    expect((error as Error).message).not.toContain('\n');
    expect(writes).toBeGreaterThan(0);
    expect(await tableDefinition(db.knex, 'treatment_goals')).toEqual(before);

    await holder.query('COMMIT');
    await createGoalSchema(db.knex, SETTINGS);
    const after = await tableDefinition(db.knex, 'treatment_goals');
    expect(after.columns.length).toBe(before.columns.length + 6);
  });
});

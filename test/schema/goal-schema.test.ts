import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqlRunner } from '../../src/db/sql-runner';
import { ConfigError, GoalSchemaConflictError, SchemaNotReadyError } from '../../src/errors';
import {
  DESCRIPTION_KEY_FUNCTION,
  GOAL_LOOKUP_INDEX,
  SESSION_READ_INDEX,
  TABLES,
} from '../../src/names';
import { createGoalSchema, dropGoalSchema } from '../../src/schema/goal-schema';
import { relationOwnership } from '../../src/schema/lock-safe-ddl';
import { createAppOwnedTables } from '../support/app-database';
import { tableDefinition } from '../support/app-goal-table';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * createGoalSchema and dropGoalSchema on the table this package creates: what they refuse
 * before changing anything, running twice changes nothing more, and the drop leaves only the
 * app's tables. The same on an app's own treatment_goals is in goal-schema-app-table.test.ts.
 */

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await createAppOwnedTables(db.knex);
});

afterEach(async () => {
  await dropGoalSchema(db.knex);
  await db.knex.raw(`DROP TABLE IF EXISTS ${TABLES.runs}`);
});

afterAll(async () => {
  await db.drop();
});

/** The relations and functions the schema is made of, and which of them exist. */
async function present(): Promise<string[]> {
  const { rows } = await db.knex.raw(
    `SELECT name FROM unnest(CAST(? AS text[])) AS t(name) WHERE to_regclass(name) IS NOT NULL
      UNION ALL SELECT proname FROM pg_proc WHERE proname = ?
      ORDER BY 1`,
    [
      [TABLES.goals, TABLES.runs, TABLES.failures, GOAL_LOOKUP_INDEX, SESSION_READ_INDEX],
      DESCRIPTION_KEY_FUNCTION,
    ],
  );
  return (rows as { name: string }[]).map((row) => row.name);
}

const EVERYTHING = [
  DESCRIPTION_KEY_FUNCTION,
  TABLES.failures,
  TABLES.runs,
  SESSION_READ_INDEX,
  GOAL_LOOKUP_INDEX,
  TABLES.goals,
].sort();

describe('createGoalSchema', () => {
  it('creates everything once: running it again changes nothing', async () => {
    await createGoalSchema(db.knex);
    expect(await present()).toEqual(EVERYTHING);
    expect(await relationOwnership(sqlRunner(db.knex), TABLES.goals)).toBe('ours');
    const definitions = [
      await tableDefinition(db.knex, TABLES.goals),
      await tableDefinition(db.knex, TABLES.runs),
      await tableDefinition(db.knex, TABLES.failures),
    ];
    await createGoalSchema(db.knex);
    expect([
      await tableDefinition(db.knex, TABLES.goals),
      await tableDefinition(db.knex, TABLES.runs),
      await tableDefinition(db.knex, TABLES.failures),
    ]).toEqual(definitions);
  });

  it('refuses a transaction, before it changes anything', async () => {
    const error = await db.knex
      .transaction((trx) => createGoalSchema(trx))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('transaction: false');
    expect(await present()).toEqual([]);
  });

  it('refuses a bookkeeping table it did not create, naming it, before it changes anything', async () => {
    await db.knex.raw(`CREATE TABLE ${TABLES.runs} (id int)`);
    const error = await createGoalSchema(db.knex).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoalSchemaConflictError);
    expect(error).toMatchObject({ tables: [TABLES.runs] });
    expect(await present()).toEqual([TABLES.runs]);
  });

  it('needs the app tables, and says where it looked', async () => {
    await db.knex.raw(`ALTER TABLE ${TABLES.sessions} RENAME TO sessions_elsewhere`);
    try {
      const error = await createGoalSchema(db.knex).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaNotReadyError);
      expect(error).toMatchObject({ missingTables: [TABLES.sessions], appTablesMissing: true });
      expect(await present()).toEqual([]);
    } finally {
      await db.knex.raw(`ALTER TABLE sessions_elsewhere RENAME TO ${TABLES.sessions}`);
    }
  });
});

describe('dropGoalSchema', () => {
  it("removes everything it created and leaves the app's tables as they were", async () => {
    const app = [
      await tableDefinition(db.knex, TABLES.users),
      await tableDefinition(db.knex, TABLES.sessions),
    ];
    await createGoalSchema(db.knex);
    await dropGoalSchema(db.knex);
    expect(await present()).toEqual([]);
    expect([
      await tableDefinition(db.knex, TABLES.users),
      await tableDefinition(db.knex, TABLES.sessions),
    ]).toEqual(app);
    // Nothing left to drop: a second drop is a no-op.
    await dropGoalSchema(db.knex);
    expect(await present()).toEqual([]);
  });
});

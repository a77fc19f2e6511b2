import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqlRunner } from '../../src/db/sql-runner';
import { createGoalSchema } from '../../src/schema/goal-schema';
import {
  CREATED_GOAL_TABLE,
  goalTableProblems,
  PROVENANCE_COLUMNS,
  readGoalTableFacts,
  readGoalTableMapping,
} from '../../src/schema/goal-table';
import { createAppOwnedTables } from '../support/app-database';
import { createAppGoalTable } from '../support/app-goal-table';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * treatment_goals as the catalog has it: the mapping the backfill writes by, for the table this
 * package creates and for one an app made, and every reason an app's table cannot be written.
 */

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await createAppOwnedTables(db.knex);
});

afterEach(async () => {
  await db.knex.raw(
    'DROP TABLE IF EXISTS goal_backfill_failures, goal_backfill_runs, treatment_goals CASCADE',
  );
  await db.knex.raw('DROP TYPE IF EXISTS goal_status, narrow_status');
  await db.knex.raw('DROP FUNCTION IF EXISTS app_touch_goal()');
});

afterAll(async () => {
  await db.drop();
});

const PROVENANCE = PROVENANCE_COLUMNS.map((column) => column.name);

async function markedColumns(): Promise<string[]> {
  const facts = await readGoalTableFacts(sqlRunner(db.knex));
  return [...(facts?.columns.values() ?? [])].filter((c) => c.marked).map((c) => c.name);
}

describe('readGoalTableMapping', () => {
  it('maps the table this package creates as CREATED_GOAL_TABLE, its provenance marked', async () => {
    await createGoalSchema(db.knex);
    expect(await readGoalTableMapping(sqlRunner(db.knex))).toEqual(CREATED_GOAL_TABLE);
    expect((await markedColumns()).sort()).toEqual([...PROVENANCE].sort());
  });

  it("maps an app's table by its own columns, limits and key, before and after adoption", async () => {
    await createAppGoalTable(db.knex);
    const expected = {
      has: {
        therapist_id: true,
        session_id: true,
        category: true,
        details: true,
        status: true,
        created_at: true,
        updated_at: true,
      },
      maxLength: { description: 40, category: 12, details: 30 },
      key: { column: 'id', type: 'bigint' },
      updatedAtIsWallClock: false,
    };
    expect(await readGoalTableMapping(sqlRunner(db.knex))).toEqual(expected);
    expect(await markedColumns()).toEqual([]);

    await createGoalSchema(db.knex);
    expect(await readGoalTableMapping(sqlRunner(db.knex))).toEqual(expected);
    expect((await markedColumns()).sort()).toEqual([...PROVENANCE].sort());
  });

  it('leaves out the optional columns a table lacks', async () => {
    await db.knex.raw(
      `CREATE TABLE treatment_goals (goal_id uuid PRIMARY KEY DEFAULT gen_random_uuid(), patient_id uuid NOT NULL,
         description varchar(200) NOT NULL, status text)`,
    );
    expect(await readGoalTableMapping(sqlRunner(db.knex))).toEqual({
      has: {
        therapist_id: false,
        session_id: false,
        category: false,
        details: false,
        status: true,
        created_at: false,
        updated_at: false,
      },
      maxLength: { description: 200, category: null, details: null },
      key: { column: 'goal_id', type: 'uuid' },
      updatedAtIsWallClock: false,
    });
    const facts = await readGoalTableFacts(sqlRunner(db.knex));
    expect(
      await goalTableProblems(db.knex, facts ?? { columns: new Map(), primaryKey: [] }, 'theirs'),
    ).toEqual([]);
  });

  it.each([
    ['timestamp(3)', true],
    ['timestamp without time zone', true],
    ['timestamptz', false],
  ])('reads an updated_at of type %s as a wall clock: %s', async (type, wallClock) => {
    await db.knex.raw(
      `CREATE TABLE treatment_goals (id uuid PRIMARY KEY, patient_id uuid NOT NULL,
         description text NOT NULL, updated_at ${type} NOT NULL DEFAULT now())`,
    );
    const mapping = await readGoalTableMapping(sqlRunner(db.knex));
    expect(mapping).toMatchObject({ updatedAtIsWallClock: wallClock });
    expect(mapping.has.updated_at).toBe(true);
  });

  it('reads no facts when there is no table', async () => {
    expect(await readGoalTableFacts(sqlRunner(db.knex))).toBeNull();
    const mapping = await readGoalTableMapping(sqlRunner(db.knex));
    expect(Object.values(mapping.has).every((has) => !has)).toBe(true);
  });
});

describe('goalTableProblems', () => {
  it("names every column of an app's table the backfill cannot write, at once", async () => {
    await db.knex.raw("CREATE TYPE narrow_status AS ENUM ('open', 'closed')");
    await db.knex.raw(
      `CREATE TABLE treatment_goals (
         tenant integer NOT NULL, id integer NOT NULL,
         patient_id text NOT NULL,
         therapist_id uuid NOT NULL,
         status narrow_status,
         origin text,
         reviewed_by text NOT NULL,
         PRIMARY KEY (tenant, id))`,
    );
    const facts = await readGoalTableFacts(sqlRunner(db.knex));
    if (!facts) throw new Error('no facts');
    const problems = await goalTableProblems(db.knex, facts, 'theirs');
    expect(problems.map((p) => p.column)).toEqual([
      'patient_id',
      'description',
      'therapist_id',
      'status',
      'tenant',
      'id',
      'origin',
      'reviewed_by',
      '(primary key)',
    ]);
    expect(problems.every((p) => p.table === 'treatment_goals' && !p.problem.includes('\n'))).toBe(
      true,
    );
    expect(problems.find((p) => p.column === 'status')?.problem).toContain("'assigned'");
  });
});

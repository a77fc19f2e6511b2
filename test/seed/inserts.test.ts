import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { toCount } from '../../src/db/sql-runner';
import { TABLES } from '../../src/names';
import {
  countPlannedShapes,
  inGeneratorTransaction,
  insertClinicianGoals,
  insertSeedSessions,
  insertSeedUsers,
} from '../../src/seed/inserts';
import { planPopulation } from '../../src/seed/mix';
import { buildSeedPools } from '../../src/seed/pools';
import type { GeneratorInput } from '../../src/seed/sql';
import { resetData } from '../support/backfill-assertions';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';

/**
 * The generating statements: each reports the rows it inserted, as the table holds them; the
 * same input gives the same rows, ids included; the sessions of patient ranges add up to the
 * sessions of all patients; and the planned shapes are those the sessions have.
 */

let db: TestDatabase;
useMigratedDatabase((created) => {
  db = created;
});

const SESSIONS = 240;

function inputOf(seed: number): GeneratorInput {
  return {
    seed,
    sessions: SESSIONS,
    population: planPopulation(SESSIONS),
    pools: buildSeedPools(seed),
  };
}

async function count(knex: Knex, sql: string): Promise<number> {
  const { rows } = await knex.raw(sql);
  return toCount(rows[0]?.n);
}

/** A digest of every seeded row, ids included. */
async function digest(): Promise<string> {
  const { rows } = await db.knex.raw(
    `SELECT (SELECT md5(string_agg(u::text, '|' ORDER BY u.id)) FROM ${TABLES.users} u)
         || (SELECT md5(string_agg(s::text, '|' ORDER BY s.id)) FROM ${TABLES.sessions} s)
         || (SELECT md5(string_agg(concat_ws(',', g.id, g.patient_id, g.description, g.category,
                                              g.details, g.status, g.origin, g.created_at),
                                    '|' ORDER BY g.id))
               FROM ${TABLES.goals} g) AS d`,
  );
  return rows[0]?.d;
}

/** Runs every statement of a seeding with `input`, sessions in `ranges`, and returns what each reported. */
async function seedWith(input: GeneratorInput, ranges: { first: number; last: number }[]) {
  const users = await inGeneratorTransaction(db.knex, (runner) => insertSeedUsers(runner, input));
  let sessions = 0;
  for (const range of ranges) {
    sessions += await inGeneratorTransaction(db.knex, (runner) =>
      insertSeedSessions(runner, input, range),
    );
  }
  const goals = await inGeneratorTransaction(db.knex, (runner) =>
    insertClinicianGoals(runner, input),
  );
  return { users, sessions, goals };
}

describe('the generating statements', () => {
  it('report the rows the tables hold', async () => {
    const input = inputOf(3);
    const { patients } = input.population;
    const reported = await seedWith(input, [{ first: 1, last: patients }]);

    expect(reported.users).toEqual({
      therapists: input.population.therapists,
      patients: input.population.patients,
    });
    expect(
      await count(db.knex, `SELECT count(*) AS n FROM ${TABLES.users} WHERE role = 'therapist'`),
    ).toBe(reported.users.therapists);
    expect(
      await count(db.knex, `SELECT count(*) AS n FROM ${TABLES.users} WHERE role = 'patient'`),
    ).toBe(reported.users.patients);
    expect(reported.sessions).toBe(SESSIONS);
    expect(await count(db.knex, `SELECT count(*) AS n FROM ${TABLES.sessions}`)).toBe(SESSIONS);
    expect(reported.goals.goals).toBeGreaterThan(0);
    expect(
      await count(db.knex, `SELECT count(*) AS n FROM ${TABLES.goals} WHERE origin = 'seed'`),
    ).toBe(reported.goals.goals);
    expect(reported.goals.fromCarePlan).toBeLessThanOrEqual(reported.goals.goals);
  });

  it('give the same rows for the same seed, in one range or several, and others for another seed', async () => {
    const input = inputOf(11);
    const { patients } = input.population;
    await seedWith(input, [{ first: 1, last: patients }]);
    const once = await digest();

    await resetData(db.knex);
    const half = Math.floor(patients / 2);
    const split = await seedWith(input, [
      { first: half + 1, last: patients },
      { first: 1, last: half },
    ]);
    expect(split.sessions).toBe(SESSIONS);
    expect(await digest()).toBe(once);

    await resetData(db.knex);
    await seedWith(inputOf(12), [{ first: 1, last: patients }]);
    expect(await digest()).not.toBe(once);
  });

  it('plan the shapes the sessions have', async () => {
    const input = inputOf(5);
    await seedWith(input, [{ first: 1, last: input.population.patients }]);
    const planned = await inGeneratorTransaction(db.knex, (runner) =>
      countPlannedShapes(runner, input),
    );
    const byShape = Object.values(planned.sessionsByShape).reduce((a, b) => a + b, 0);
    expect(byShape).toBe(SESSIONS);
    expect(
      await count(
        db.knex,
        `SELECT count(*) AS n FROM ${TABLES.sessions} WHERE extracted_notes IS NULL`,
      ),
    ).toBe(planned.sessionsByShape.sql_null);
    expect(
      await count(
        db.knex,
        `SELECT count(*) AS n FROM ${TABLES.sessions} WHERE extracted_notes = CAST('null' AS jsonb)`,
      ),
    ).toBe(planned.sessionsByShape.json_null);
    const items = Object.values(planned.itemsByKind).reduce((a, b) => a + b, 0);
    expect(
      await count(
        db.knex,
        `SELECT coalesce(sum(jsonb_array_length(extracted_notes -> 'action_items')), 0) AS n
           FROM ${TABLES.sessions}
          WHERE jsonb_typeof(extracted_notes) = 'object'
            AND jsonb_typeof(extracted_notes -> 'action_items') = 'array'`,
      ),
    ).toBe(items);
  });
});

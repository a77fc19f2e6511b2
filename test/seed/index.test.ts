import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors';
import { silentLogger } from '../../src/logging';
import { type SeedStats, seedDatabase } from '../../src/seed';
import { ITEM_KINDS, SESSION_SHAPES } from '../../src/seed/mix';
import { tableCounts } from '../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { countOf } from './seeded-data';

let db: TestDatabase;
let stats: SeedStats;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.migrateLatest();
  stats = await seedDatabase({ knex: db.knex, logger: silentLogger });
});

afterAll(async () => {
  await db.drop();
});

const count = (sql: string) => countOf(db.knex, sql);

/** The action items of every session whose action_items is an array. */
const ITEMS = `SELECT s.patient_id, s.id AS session_id, e.item
  FROM therapy_sessions s
  CROSS JOIN LATERAL jsonb_array_elements(s.extracted_notes -> 'action_items') AS e(item)
  WHERE jsonb_typeof(s.extracted_notes) = 'object'
    AND jsonb_typeof(s.extracted_notes -> 'action_items') = 'array'`;

describe('seedDatabase with the defaults', () => {
  it('inserts 2000 sessions, their therapists and patients, and a few clinician goals', async () => {
    expect(stats).toMatchObject({ seed: 20_261_123, sessions: 2000, therapists: 4, patients: 100 });
    expect(stats.users).toBe(104);
    expect(await tableCounts(db.knex)).toEqual({
      users: 104,
      therapy_sessions: 2000,
      treatment_goals: stats.clinicianGoals,
      goal_backfill_runs: 0,
      goal_backfill_failures: 0,
    });
    expect(stats.clinicianGoals).toBeGreaterThan(0);
    expect(stats.clinicianGoalsFromCarePlans).toBeGreaterThan(0);
    expect(stats.clinicianGoalsFromCarePlans).toBeLessThan(stats.clinicianGoals);
  });

  it('plans every shape and kind, near the proportions', () => {
    for (const shape of SESSION_SHAPES) {
      const share = stats.sessionsByShape[shape.name] / stats.sessions;
      expect(share, shape.name).toBeGreaterThan((shape.perMille / 1000) * 0.5);
      expect(share, shape.name).toBeLessThan((shape.perMille / 1000) * 1.5 + 0.01);
    }
    const items = Object.values(stats.itemsByKind).reduce((a, b) => a + b, 0);
    for (const kind of ITEM_KINDS) {
      const share = stats.itemsByKind[kind.name] / items;
      expect(share, kind.name).toBeGreaterThan((kind.perMille / 1000) * 0.5);
      expect(share, kind.name).toBeLessThan((kind.perMille / 1000) * 1.5 + 0.01);
    }
  });

  it('stores every shape of extracted_notes the backfill meets', async () => {
    const shapes = {
      sqlNull: 'extracted_notes IS NULL',
      jsonNull: "jsonb_typeof(extracted_notes) = 'null'",
      string: "jsonb_typeof(extracted_notes) = 'string'",
      topLevelArray: "jsonb_typeof(extracted_notes) = 'array'",
      withoutActionItems:
        "jsonb_typeof(extracted_notes) = 'object' AND extracted_notes -> 'action_items' IS NULL",
      actionItemsNull: "extracted_notes -> 'action_items' = 'null'::jsonb",
      actionItemsEmpty: "extracted_notes -> 'action_items' = '[]'::jsonb",
      actionItemsObject: "jsonb_typeof(extracted_notes -> 'action_items') = 'object'",
      actionItemsString: "jsonb_typeof(extracted_notes -> 'action_items') = 'string'",
      actionItemsNumber: "jsonb_typeof(extracted_notes -> 'action_items') = 'number'",
    };
    for (const [name, where] of Object.entries(shapes)) {
      expect(
        await count(`SELECT count(*) AS n FROM therapy_sessions WHERE ${where}`),
        name,
      ).toBeGreaterThan(0);
    }
    expect(
      await count(
        "SELECT count(*) AS n FROM therapy_sessions WHERE extracted_notes IS NULL OR jsonb_typeof(extracted_notes) = 'null'",
      ),
    ).toBe(stats.sessionsByShape.sql_null + stats.sessionsByShape.json_null);
  });

  it('stores every kind of action item: valid, blank, incomplete and malformed', async () => {
    const kinds = {
      complete:
        "jsonb_typeof(item -> 'task') = 'string' AND jsonb_typeof(item -> 'category') = 'string' AND jsonb_typeof(item -> 'details') = 'string'",
      missingCategory:
        "jsonb_typeof(item -> 'task') = 'string' AND jsonb_typeof(item) = 'object' AND item -> 'category' IS NULL",
      missingDetails:
        "jsonb_typeof(item -> 'task') = 'string' AND jsonb_typeof(item) = 'object' AND item -> 'details' IS NULL",
      emptyTask: "item ->> 'task' = ''",
      whitespaceTask:
        "jsonb_typeof(item -> 'task') = 'string' AND item ->> 'task' <> '' AND btrim(item ->> 'task', E' \\t\\n\\r\\u00a0\\u3000\\u2003\\ufeff') = ''",
      paddedTask:
        "jsonb_typeof(item -> 'task') = 'string' AND item ->> 'task' <> btrim(item ->> 'task') AND btrim(item ->> 'task') <> ''",
      taskNumber: "jsonb_typeof(item -> 'task') = 'number'",
      taskNull: "item -> 'task' = 'null'::jsonb",
      taskKeyMissing: "jsonb_typeof(item) = 'object' AND item -> 'task' IS NULL",
      itemString: "jsonb_typeof(item) = 'string'",
      itemNumber: "jsonb_typeof(item) = 'number'",
      itemNull: "jsonb_typeof(item) = 'null'",
      categoryNotText: "jsonb_typeof(item -> 'category') = 'array'",
      detailsNotText: "jsonb_typeof(item -> 'details') = 'object'",
    };
    for (const [name, where] of Object.entries(kinds)) {
      expect(
        await count(`SELECT count(*) AS n FROM (${ITEMS}) i WHERE ${where}`),
        name,
      ).toBeGreaterThan(0);
    }
  });

  it("carries tasks over across a patient's sessions, so duplicates occur", async () => {
    const carried = await count(
      `SELECT count(*) AS n FROM (
         SELECT patient_id, btrim(item ->> 'task') FROM (${ITEMS}) i
          WHERE jsonb_typeof(item -> 'task') = 'string' AND btrim(item ->> 'task') <> ''
          GROUP BY 1, 2 HAVING count(DISTINCT session_id) > 1) carried`,
    );
    expect(carried).toBeGreaterThan(100);
  });

  it('has clinician goals that collide with a task the same patient was given in a session', async () => {
    const colliding = await count(
      `SELECT count(*) AS n FROM treatment_goals g
        WHERE g.origin = 'seed' AND EXISTS (
          SELECT 1 FROM (${ITEMS}) i
           WHERE i.patient_id = g.patient_id AND jsonb_typeof(i.item -> 'task') = 'string'
             AND btrim(i.item ->> 'task') = g.description)`,
    );
    expect(colliding).toBeGreaterThan(0);
    expect(colliding).toBeLessThanOrEqual(stats.clinicianGoalsFromCarePlans);
    expect(
      await count(
        `SELECT count(*) AS n FROM treatment_goals
          WHERE origin IS DISTINCT FROM 'seed' OR backfill_run_id IS NOT NULL OR session_id IS NOT NULL`,
      ),
    ).toBe(0);
  });

  it('spreads sessions over weekdays of 2025, in office hours, mostly with the patient’s own therapist', async () => {
    const [row] = (
      await db.knex.raw<{
        rows: { first: string; last: string; weekend: string; early: string; late: string }[];
      }>(
        `SELECT min(session_date) AT TIME ZONE 'UTC' AS first, max(session_date) AT TIME ZONE 'UTC' AS last,
                count(*) FILTER (WHERE extract(isodow FROM session_date AT TIME ZONE 'UTC') > 5) AS weekend,
                count(*) FILTER (WHERE extract(hour FROM session_date AT TIME ZONE 'UTC') < 8) AS early,
                count(*) FILTER (WHERE extract(hour FROM session_date AT TIME ZONE 'UTC') > 17) AS late
           FROM therapy_sessions`,
      )
    ).rows;
    expect(new Date(`${row?.first}Z`).getUTCFullYear()).toBe(2025);
    expect(new Date(`${row?.last}Z`).getUTCFullYear()).toBe(2025);
    expect(Number(row?.weekend) + Number(row?.early) + Number(row?.late)).toBe(0);
    const months = await count(
      "SELECT count(DISTINCT date_trunc('month', session_date AT TIME ZONE 'UTC')) AS n FROM therapy_sessions",
    );
    expect(months).toBe(12);
    expect(
      await count('SELECT count(*) AS n FROM therapy_sessions WHERE therapist_id IS NULL'),
    ).toBeGreaterThan(0);
    expect(
      await count(
        `SELECT count(*) AS n FROM therapy_sessions s JOIN users t ON t.id = s.therapist_id
          WHERE t.role <> 'therapist'`,
      ),
    ).toBe(0);
  });

  it('gives users realistic names, one role each and unique emails', async () => {
    const rows = (
      await db.knex.raw<{ rows: { role: string; full_name: string; email: string }[] }>(
        'SELECT role, full_name, email FROM users ORDER BY email',
      )
    ).rows;
    expect(new Set(rows.map((row) => row.email)).size).toBe(rows.length);
    for (const row of rows) {
      expect(row.email).toMatch(/^[a-z.]*\.\d+@(clinic\.example|example\.(com|net|org))$/);
      expect(row.full_name).toMatch(/^\S+ \S.*$/);
    }
    const therapists = rows.filter((row) => row.role === 'therapist');
    expect(therapists.every((row) => /, (PhD|PsyD|LCSW|LMFT|LPC|MD)$/.test(row.full_name))).toBe(
      true,
    );
  });
});

describe('seedDatabase sizes and options', () => {
  it.each([1, 37, 999])('inserts exactly %i session(s) when asked', async (sessions) => {
    const result = await seedDatabase({ knex: db.knex, logger: silentLogger, sessions });
    expect(result.sessions).toBe(sessions);
    expect(result.expectedBackfill.sessionsProcessed).toBe(sessions);
    expect(await count('SELECT count(*) AS n FROM therapy_sessions')).toBe(sessions);
  });

  it('refuses bad options, listing every problem', async () => {
    await expect(
      seedDatabase({
        knex: db.knex,
        logger: silentLogger,
        sessions: 0,
        seed: -1,
        concurrency: 1.5,
      }),
    ).rejects.toThrow(ConfigError);
    await expect(
      seedDatabase({ knex: db.knex, logger: silentLogger, sessions: 0, seed: -1 }),
    ).rejects.toThrow(/sessions must be .*; seed must be/);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JS_TRIM_CHARACTERS } from '../../src/backfill/rules';
import { runBackfill } from '../../src/backfill/run';
import { silentLogger } from '../../src/logging';
import { insertClinicianGoal, insertSessions, insertUsers } from '../support/fixtures';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

const SQL_FILE = path.join(__dirname, '..', '..', 'docs', 'sql', 'verify-backfill.sql');

/** The queries of the file, each with the comment line that introduces it. */
function queries(): { title: string; sql: string }[] {
  const text = readFileSync(SQL_FILE, 'utf8');
  return text
    .split(/\n(?=-- \d+\. )/)
    .slice(1)
    .map((chunk) => ({
      title: chunk.split('\n')[0] ?? '',
      sql: chunk.trim().replace(/;\s*$/, ''),
    }));
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.migrateLatest();
  const [a = '', b = ''] = await insertUsers(db.knex, 2, 'patient');
  await insertSessions(db.knex, [
    {
      patientId: a,
      sessionDate: '2024-02-01T00:00:00Z',
      notes: { action_items: [{ task: ' Walk\u3000' }, { task: 'Read' }] },
    },
    {
      patientId: a,
      sessionDate: '2024-01-01T00:00:00Z',
      notes: { action_items: ['x', { task: 'Walk' }] },
    },
    {
      patientId: b,
      sessionDate: '2024-01-01T00:00:00Z',
      notes: { action_items: [{ task: 'Walk' }, { task: '' }] },
    },
    { patientId: b, sessionDate: '2024-01-02T00:00:00Z', notes: null },
  ]);
  await insertClinicianGoal(db.knex, { patientId: b, description: 'Stretch' });
  await runBackfill({ knex: db.knex, logger: silentLogger });
});

afterAll(async () => {
  await db.drop();
});

describe('docs/sql/verify-backfill.sql', () => {
  it('uses the backfill’s own whitespace set', () => {
    const escaped = [...JS_TRIM_CHARACTERS]
      .map((char) => `\\${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`)
      .join('');
    const text = readFileSync(SQL_FILE, 'utf8');
    expect(text.match(/U&'([^']*)'/g)?.every((literal) => literal === `U&'${escaped}'`)).toBe(true);
  });

  it('has six queries that all run, and the "expect 0" checks return 0 after a backfill', async () => {
    const all = queries();
    expect(all).toHaveLength(6);
    for (const { title, sql } of all) {
      const result = await db.knex.raw(sql);
      if (title.includes('Expect 0')) {
        for (const value of Object.values(result.rows[0] as object)) {
          expect(Number(value), title).toBe(0);
        }
      }
    }
  });

  it('catches a goal that does not match its source', async () => {
    await db
      .knex('treatment_goals')
      .where({ description: 'Read' })
      .update({ source_item_index: 0 });
    const check = queries().find((query) => query.title.startsWith('-- 4.'));
    const result = await db.knex.raw(check?.sql ?? '');
    expect(Number(result.rows[0].goals_not_matching_their_source)).toBe(1);
  });

  it('catches a goal taken from a later occurrence of its pair', async () => {
    // Patient a's 'Walk' first occurs in the January session (item 1), again in February (item 0).
    const [february] = await db
      .knex('therapy_sessions')
      .where({ session_date: new Date('2024-02-01T00:00:00Z') })
      .select('id');
    await db
      .knex('treatment_goals')
      .where({ description: 'Walk', source_item_index: 1 })
      .update({ session_id: february?.id, source_item_index: 0 });
    const check = queries().find((query) => query.title.startsWith('-- 4.'));
    const result = await db.knex.raw(check?.sql ?? '');
    expect(Number(result.rows[0].goals_not_from_earliest_occurrence)).toBe(1);
  });

  it('catches a backfilled goal beside a goal entered before it, and not one a clinician entered after', async () => {
    const check = queries().find((query) => query.title.startsWith('-- 5.'));
    const [b = ''] = await db
      .knex('treatment_goals')
      .where({ description: 'Walk', source_item_index: 0 })
      .pluck('patient_id');
    await insertClinicianGoal(db.knex, { patientId: b, description: 'Walk' });
    const counts = async () => {
      const { rows } = await db.knex.raw(check?.sql ?? '');
      return Object.values(rows[0] as object).map(Number);
    };
    expect(await counts()).toEqual([0, 0]);
    await db
      .knex('treatment_goals')
      .where({ patient_id: b, description: 'Walk', origin: null })
      .update({ created_at: new Date('2020-01-01T00:00:00Z') });
    expect(await counts()).toEqual([0, 1]);
    await db.knex('treatment_goals').where({ patient_id: b, origin: null }).delete();
  });

  it('catches a source pair without a goal', async () => {
    await db.knex('treatment_goals').where({ description: 'Walk' }).delete();
    const check = queries().find((query) => query.title.startsWith('-- 4.'));
    const result = await db.knex.raw(check?.sql ?? '');
    expect(Number(result.rows[0].source_pairs_without_goal)).toBe(2);
  });
});

/** Items in the one big session: 90,000 distinct tasks, each tenth one a duplicate. */
const BIG_SESSION_ITEMS = 100_000;
/** Each query must finish well within this, or the test fails. */
const QUERY_TIMEOUT_MS = 20_000;

describe.skipIf(onPglite)('docs/sql/verify-backfill.sql on a session with 100,000 items', () => {
  let big: TestDatabase;

  beforeAll(async () => {
    big = await createTestDatabase();
    await big.migrateLatest();
    const [patient = ''] = await insertUsers(big.knex, 1, 'patient');
    // An earlier session repeats some of the big session's tasks, so its goals come from here.
    await insertSessions(big.knex, [
      {
        patientId: patient,
        sessionDate: '2023-06-01T00:00:00Z',
        notes: { action_items: [{ task: 'Big task 7' }, { task: ' Big task 70000 ' }] },
      },
    ]);
    await big.knex.raw(
      `INSERT INTO therapy_sessions (patient_id, session_date, extracted_notes)
       SELECT ?, '2024-01-01T00:00:00Z', jsonb_build_object('action_items', jsonb_agg(
                CASE WHEN i % 1000 = 999 THEN jsonb_build_object('task', '   ')
                     ELSE jsonb_build_object('task', 'Big task ' || (i % 90000), 'details', 'd') END
                ORDER BY i))
         FROM generate_series(0, ? - 1) AS i`,
      [patient, BIG_SESSION_ITEMS],
    );
    const result = await runBackfill({ knex: big.knex, logger: silentLogger });
    expect(result.itemsSeen).toBe(BIG_SESSION_ITEMS + 2);
    expect(result.goalsCreated).toBeGreaterThan(80_000);
  }, 240_000);

  afterAll(async () => {
    await big?.drop();
  });

  it(`runs every query within ${QUERY_TIMEOUT_MS / 1000} s, and the checks return 0`, async () => {
    for (const { title, sql } of queries()) {
      const started = Date.now();
      const rows = await big.knex.transaction(async (trx) => {
        await trx.raw(`SET LOCAL statement_timeout = ${QUERY_TIMEOUT_MS}`);
        return (await trx.raw(sql)).rows as object[];
      });
      expect(Date.now() - started, title).toBeLessThan(QUERY_TIMEOUT_MS);
      if (title.includes('Expect 0'))
        for (const value of Object.values(rows[0] ?? {})) expect(Number(value), title).toBe(0);
    }
  }, 200_000);
});

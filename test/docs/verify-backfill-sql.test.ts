import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JS_TRIM_CHARACTERS } from '../../src/backfill/goal-rules';
import { runBackfill } from '../../src/backfill/run-backfill';
import { silentLogger } from '../../src/logging/logger';
import { insertClinicianGoal, insertSessions, insertUsers } from '../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

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

  it('has eight queries that all run, and the "expect 0" checks return 0 after a backfill', async () => {
    const all = queries();
    expect(all).toHaveLength(8);
    for (const { title, sql } of all) {
      const result = await db.knex.raw(sql);
      if (title.includes('Expect 0')) {
        expect(Number(Object.values(result.rows[0] as object)[0]), title).toBe(0);
      }
    }
  });

  it('catches a goal that does not match its source', async () => {
    await db
      .knex('treatment_goals')
      .where({ description: 'Read' })
      .update({ source_item_index: 0 });
    const check = queries().find((query) => query.title.startsWith('-- 5.'));
    const result = await db.knex.raw(check?.sql ?? '');
    expect(Number(result.rows[0].goals_not_matching_their_source)).toBe(1);
  });
});

import type { Knex } from 'knex';
import { type InsertedSession, insertSessions, insertUsers, SQL_NULL } from '../support/fixtures';
import { knexFor } from '../support/test-database';

/** Planted in task text, details and categories: it must never reach any output. */
export const MARKER = 'PLANTED-CLI-MARKER-5b9e';

/**
 * Five sessions of two patients whose counts are known: 3 goals, 1 duplicate, 3 invalid items
 * (one each of blank_task, not_an_object, task_not_a_string), 2 sessions skipped (notes_null,
 * action_items_empty). The fifth session's only goal holds the marker in its task.
 */
export async function seedKnownSessions(knex: Knex): Promise<InsertedSession[]> {
  const [first = '', second = ''] = await insertUsers(knex, 2, 'patient');
  return insertSessions(knex, [
    {
      patientId: first,
      sessionDate: '2024-01-01T10:00:00Z',
      notes: {
        action_items: [
          { task: ' Walk daily ', category: `exercise ${MARKER}`, details: `said ${MARKER}` },
          { task: 'Read' },
          { task: '   ' },
          'a bare string',
        ],
      },
    },
    {
      patientId: first,
      sessionDate: '2024-01-02T10:00:00Z',
      notes: { action_items: [{ task: 'Walk daily' }, { task: 42 }] },
    },
    { patientId: second, sessionDate: '2024-01-03T10:00:00Z', notes: SQL_NULL },
    { patientId: second, sessionDate: '2024-01-04T10:00:00Z', notes: { action_items: [] } },
    {
      patientId: second,
      sessionDate: '2024-01-05T10:00:00Z',
      notes: { action_items: [{ task: `Journal ${MARKER}`, details: `private ${MARKER}` }] },
    },
  ]);
}

/** `count` sessions, each with one valid task, spread over 20 patients. */
export async function seedManySessions(knex: Knex, count: number): Promise<void> {
  const patients = await insertUsers(knex, 20, 'patient');
  await insertSessions(
    knex,
    Array.from({ length: count }, (_, i) => ({
      patientId: patients[i % 20] ?? '',
      sessionDate: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
      notes: { action_items: [{ task: `Task ${i % 50} ${MARKER}`, details: MARKER }] },
    })),
  );
}

/** Holds ACCESS EXCLUSIVE on treatment_goals from another transaction while `work` runs. */
export async function lockGoalsTable<T>(url: string, work: () => Promise<T>): Promise<T> {
  const other = knexFor(url, 1);
  try {
    return await other.transaction(async (trx) => {
      await trx.raw('LOCK TABLE treatment_goals IN ACCESS EXCLUSIVE MODE');
      return work();
    });
  } finally {
    await other.destroy();
  }
}

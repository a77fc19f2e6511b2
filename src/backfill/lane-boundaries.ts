import { hasSessionKey } from '../bookkeeping/session-key';
import type { SqlRunner } from '../db/connection';
import { TABLES } from '../schema/tables';

/**
 * The patients at which to split the sessions into `lanes` shares of about equal size, in
 * reading order: for each share after the first, the patient of the session at its start
 * (found in the reading index, so no table scan). A patient is never split, so one with very
 * many sessions makes its share bigger; equal boundaries collapse, so there may be fewer
 * shares than asked for. `sessions` is about how many sessions the table holds.
 */
export async function laneBoundaries(
  db: SqlRunner,
  lanes: number,
  sessions: number,
): Promise<string[]> {
  const boundaries: string[] = [];
  for (let share = 1; share < lanes; share += 1) {
    const [row] = await db.rows<{ patient_id: string }>(
      `SELECT s.patient_id FROM ${TABLES.sessions} s WHERE ${hasSessionKey('s')}
        ORDER BY s.patient_id, s.session_date, s.id OFFSET ? LIMIT 1`,
      [Math.floor((share * sessions) / lanes)],
    );
    if (row && row.patient_id !== boundaries.at(-1)) boundaries.push(row.patient_id);
  }
  return boundaries;
}

import { BACKFILL_ORIGIN, SEED_ORIGIN } from '../schema/goal-vocabulary';
import { toCount } from '../db/query-rows';
import type { SqlRunner } from '../db/sql-runner';
import { TABLES } from '../schema/tables';

/**
 * True (in SQL) for an id the seeds generated: {@link seededUuid} stamps every seeded user,
 * session and goal as an RFC 9562 version 8 UUID, which neither `gen_random_uuid()` (version
 * 4) nor the usual app generators produce.
 */
export function isSeededId(column: string): string {
  return `substr(CAST(${column} AS text), 15, 1) = '8'`;
}

/** Rows the seeds did not create, by table. A seed run refuses while any exist. */
export interface ForeignRows {
  users: number;
  sessions: number;
  goals: number;
}

/** Counts the rows of users, therapy_sessions and treatment_goals that the seeds did not create. */
export async function countForeignRows(db: SqlRunner): Promise<ForeignRows> {
  const [row] = await db.rows<Record<keyof ForeignRows, unknown>>(
    `SELECT (SELECT count(*) FROM ${TABLES.users} WHERE NOT ${isSeededId('id')}) AS users,
            (SELECT count(*) FROM ${TABLES.sessions} WHERE NOT ${isSeededId('id')}) AS sessions,
            (SELECT count(*) FROM ${TABLES.goals}
              WHERE origin IS NULL OR origin NOT IN ('${SEED_ORIGIN}', '${BACKFILL_ORIGIN}')
                 OR (origin = '${BACKFILL_ORIGIN}' AND NOT ${isSeededId('patient_id')})) AS goals`,
  );
  return {
    users: toCount(row?.users),
    sessions: toCount(row?.sessions),
    goals: toCount(row?.goals),
  };
}

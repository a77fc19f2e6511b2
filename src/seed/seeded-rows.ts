import { toCount } from '../db/query-rows';
import type { SqlRunner } from '../db/sql-runner';
import { BACKFILL_ORIGIN, SEED_ORIGIN } from '../schema/goal-vocabulary';
import { TABLES } from '../schema/tables';
import { SeedRefusedError } from './seed-refused-error';

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

/**
 * Throws {@link SeedRefusedError}, naming the counts, while users, therapy_sessions or
 * treatment_goals hold a row the seeds did not create: the seeds never delete such a row.
 */
export async function assertOnlySeededRows(db: SqlRunner): Promise<void> {
  const foreign = await countForeignRows(db);
  if (foreign.users + foreign.sessions + foreign.goals > 0) {
    throw new SeedRefusedError(
      `the database holds rows the seeds did not create (${foreign.users} user(s), ` +
        `${foreign.sessions} session(s), ${foreign.goals} goal(s))`,
    );
  }
}

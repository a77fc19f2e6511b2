import { toCount } from '../db/query-rows';
import type { SqlRunner } from '../db/sql-runner';
import { readGoalTableMapping } from '../schema/goal-table';
import { TABLES } from '../schema/tables';
import { goalProvenanceSql } from './goal-provenance';

/** How many goals there are, by where they came from. */
export interface GoalCensus {
  unchangedBackfill: number;
  changedBackfill: number;
  clinician: number;
  /** Demo goals from the seeds (local databases only). */
  seed: number;
}

/** Counts treatment_goals by provenance in one scan. */
export async function takeGoalCensus(db: SqlRunner): Promise<GoalCensus> {
  const GOAL_PROVENANCE_SQL = goalProvenanceSql(await readGoalTableMapping(db));
  const [row] = await db.rows<Record<keyof GoalCensus, unknown>>(
    `SELECT count(*) FILTER (WHERE ${GOAL_PROVENANCE_SQL.unchangedBackfill}) AS "unchangedBackfill",
            count(*) FILTER (WHERE ${GOAL_PROVENANCE_SQL.changedBackfill}) AS "changedBackfill",
            count(*) FILTER (WHERE ${GOAL_PROVENANCE_SQL.clinician}) AS clinician,
            count(*) FILTER (WHERE ${GOAL_PROVENANCE_SQL.seed}) AS seed
       FROM ${TABLES.goals}`,
  );
  return {
    unchangedBackfill: toCount(row?.unchangedBackfill),
    changedBackfill: toCount(row?.changedBackfill),
    clinician: toCount(row?.clinician),
    seed: toCount(row?.seed),
  };
}

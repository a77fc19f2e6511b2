import { toCount } from '../db/query-rows';
import type { SqlRunner } from '../db/sql-runner';
import { SEED_ORIGIN } from '../schema/goal-vocabulary';
import { TABLES } from '../schema/tables';
import { hashOf, seededUuid } from './deterministic-sql';
import { type GeneratorInput, generatorParamsCte } from './generator-params';
import { pickTextFromPool } from './pool-sql';
import { carePlanTaskIndex, PATIENTS_CTE } from './session-plan-sql';

/** What {@link insertClinicianGoals} inserted. */
export interface InsertedClinicianGoals {
  goals: number;
  /** Goals worded as a task of the patient's care plan: when a session carries that task, the backfill counts it as a duplicate. */
  fromCarePlan: number;
}

const GOAL_KEY = '(pt.patient_no * 4 + g.goal_no)';

/**
 * Inserts demo goals worded as clinicians enter them by hand, with origin 'seed' (demo data,
 * not clinical, so rollbacks of a seeded database never stop for them): a
 * first goal for some patients and a second for fewer. Half are worded as one of the patient's
 * care-plan tasks (slot 0 for the first goal, slot 1 for the second), the rest as clinicians
 * word outcomes. No two goals of a patient can share a description: the care-plan slots differ,
 * the outcome wordings are consecutive pool entries, and no outcome wording equals a task.
 */
export async function insertClinicianGoals(
  db: SqlRunner,
  input: GeneratorInput,
): Promise<InsertedClinicianGoals> {
  const params = generatorParamsCte(input);
  const created = `params.year_start
      + (${hashOf(GOAL_KEY, 'goalCreatedDay')} % 330 * 1440 + 540) * interval '1 minute'`;
  const sql = `WITH ${params.sql},
  ${PATIENTS_CTE},
  planned_goals AS MATERIALIZED (
    SELECT ${seededUuid('goal', GOAL_KEY)} AS id, pt.patient_id, pt.therapist_id,
           ${hashOf(GOAL_KEY, 'goalFromCarePlan')} % 100 < params.goal_from_care_plan_percent AS from_care_plan,
           params.tasks -> ${carePlanTaskIndex('pt.plan_base', 'g.goal_no - 1')} ->> 'task' AS care_plan_task,
           ${pickTextFromPool('clinician_goals', `${hashOf('pt.patient_no', 'goalWording')} + g.goal_no`)} AS wording,
           ${pickTextFromPool('categories', hashOf(GOAL_KEY, 'goalCategory'))} AS category,
           CASE WHEN ${hashOf(GOAL_KEY, 'goalDetails')} % 100 < 70
             THEN ${pickTextFromPool('clinician_details', hashOf(GOAL_KEY, 'goalDetails'))} END AS details,
           params.statuses ->> CAST(width_bucket(${hashOf(GOAL_KEY, 'goalStatus')} % 1000, params.status_bounds) - 1 AS int) AS status,
           ${created} AS created_at,
           ${created}
             + (${hashOf(GOAL_KEY, 'goalUpdatedDays')} % 30) * 1440 * interval '1 minute' AS updated_at
      FROM patients AS pt
      CROSS JOIN params
      CROSS JOIN generate_series(1, 2) AS g(goal_no)
     WHERE ${hashOf(GOAL_KEY, 'goalChosen')} % 1000
             < CASE g.goal_no WHEN 1 THEN params.first_goal_per_mille ELSE params.second_goal_per_mille END
  ),
  inserted AS (
    INSERT INTO ${TABLES.goals} (id, patient_id, therapist_id, description, category, details, status, created_at, updated_at, origin)
    SELECT id, patient_id, therapist_id, CASE WHEN from_care_plan THEN care_plan_task ELSE wording END,
           category, details, status, created_at, updated_at, '${SEED_ORIGIN}'
      FROM planned_goals
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM inserted) AS goals,
         (SELECT count(*) FROM planned_goals WHERE from_care_plan) AS from_care_plan`;
  const [row] = await db.rows<{ goals: unknown; from_care_plan: unknown }>(sql, params.bindings);
  return { goals: toCount(row?.goals), fromCarePlan: toCount(row?.from_care_plan) };
}

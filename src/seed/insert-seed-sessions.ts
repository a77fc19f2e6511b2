import { toCount } from '../db/query-rows';
import type { SqlRunner } from '../db/sql-runner';
import { TABLES } from '../schema/tables';
import { caseByNumber } from './case-by-number';
import { hashOf, seededUuid } from './deterministic-sql';
import { type GeneratorInput, generatorParamsCte } from './generator-params';
import { pickFromPool } from './pool-sql';
import { ITEM_COUNT_PER_MILLE, SESSION_SHAPES, type SessionShapeName } from './seed-proportions';
import {
  carePlanTaskIndex,
  itemKey,
  itemKindNumber,
  itemTaskIndex,
  PATIENTS_CTE,
  type PatientRange,
  PLANNED_SESSIONS_CTE,
  patientRangeBindings,
} from './session-plan-sql';

/** Item `item` (1-based) of the session: one lookup in the prebuilt pool, by kind and task. */
function actionItem(item: number): string {
  const key = itemKey('p.n', String(item));
  return `(params.action_items -> ((${itemKindNumber(key)} - 1) * CAST(params.tasks_count AS int)
      + ${itemTaskIndex('p.plan_base', key)}))`;
}

/** The `action_items` array: as many items as the plan says, built without a subquery. */
const ACTION_ITEMS = `CASE p.item_count ${ITEM_COUNT_PER_MILLE.map((_, index) => {
  const items = Array.from({ length: index + 1 }, (_item, item) => actionItem(item + 1));
  return `WHEN ${index + 1} THEN jsonb_build_array(${items.join(', ')})`;
}).join(' ')} END`;

const TEMPLATE = pickFromPool('note_templates', hashOf('p.n', 'noteTemplate'));
const VARIANT = hashOf('p.n', 'shapeVariant');
const PLAN_TASK = `(params.tasks -> ${carePlanTaskIndex('p.plan_base', `${VARIANT} % params.care_plan_size`)})`;
const ANY_TASK = pickFromPool('tasks', VARIANT);

/** `extracted_notes` of each shape. */
const NOTES_BY_SHAPE: Record<SessionShapeName, string> = {
  action_items: `${TEMPLATE} || jsonb_build_object('action_items', ${ACTION_ITEMS})`,
  summary_only: TEMPLATE,
  sql_null: 'CAST(NULL AS jsonb)',
  empty_action_items: `${TEMPLATE} || CAST('{"action_items": []}' AS jsonb)`,
  action_items_not_array: `${TEMPLATE} || jsonb_build_object('action_items',
      CASE ${VARIANT} % 3 WHEN 0 THEN ${PLAN_TASK}
        WHEN 1 THEN to_jsonb((${PLAN_TASK} ->> 'task') || '; ' || (${ANY_TASK} ->> 'task'))
        ELSE to_jsonb(1 + ${VARIANT} % 3) END)`,
  json_null: "CAST('null' AS jsonb)",
  notes_not_object: `CASE ${VARIANT} % 2 WHEN 0 THEN ${pickFromPool('placeholder_notes', VARIANT)}
      ELSE jsonb_build_array(${PLAN_TASK}, ${ANY_TASK}) END`,
  action_items_null: `${TEMPLATE} || CAST('{"action_items": null}' AS jsonb)`,
};

/** The therapist of a session: usually the patient's, sometimes a colleague covering, rarely none. */
const THERAPIST = `CASE
      WHEN ${hashOf('p.n', 'therapistCover')} % 1000 < params.without_therapist_per_mille
        THEN CAST(NULL AS uuid)
      WHEN ${hashOf('p.n', 'therapistCover')} % 1000
             < params.without_therapist_per_mille + params.covered_per_mille
        THEN ${seededUuid(
          'therapist',
          `1 + (p.therapist_no + ${hashOf('p.n', 'coveringTherapist')} % greatest(params.therapists - 1, 1)) % params.therapists`,
        )}
      ELSE p.therapist_id END`;

/** The day of the year (0-based): the nominal day, give or take one for weekly or rarer sessions. */
const DAY_OF_YEAR = `least(364, greatest(0, p.nominal_day
      + CASE WHEN p.cadence_days >= 7 THEN ${hashOf('p.n', 'dayJitter')} % 3 - 1 ELSE 0 END))`;

/**
 * Office hours, 08:00 to 17:30 UTC on the half hour, on a weekday (Saturday moves to Friday,
 * Sunday to Monday). Counted in minutes from the start of the year, so no time zone applies.
 */
const SESSION_DATE = `params.year_start + (
      (d.day + CASE (params.year_start_weekday + d.day) % 7 WHEN 5 THEN -1 WHEN 6 THEN 1 ELSE 0 END) * 1440
      + 480 + (${hashOf('p.n', 'sessionTime')} % 20) * 30) * interval '1 minute'`;

/**
 * Inserts the sessions of the patients in `range` in one set-based statement: every value is a
 * function of the seed and the session's number, drawn from the pools. Notes are written an hour
 * after the session. Returns how many rows it inserted.
 */
export async function insertSeedSessions(
  db: SqlRunner,
  input: GeneratorInput,
  range: PatientRange,
): Promise<number> {
  const params = generatorParamsCte(input);
  const sql = `WITH ${params.sql},
  ${PATIENTS_CTE},
  ${PLANNED_SESSIONS_CTE},
  inserted AS (
    INSERT INTO ${TABLES.sessions} (id, patient_id, therapist_id, session_date, extracted_notes, created_at)
    SELECT s.id, s.patient_id, s.therapist_id, s.session_date, s.notes, s.session_date + interval '1 hour'
      FROM (
        SELECT ${seededUuid('session', 'p.n')} AS id, p.patient_id, ${THERAPIST} AS therapist_id,
               ${SESSION_DATE} AS session_date,
               ${caseByNumber('p.shape_no', SESSION_SHAPES, NOTES_BY_SHAPE)} AS notes
          FROM planned AS p
          CROSS JOIN params
          CROSS JOIN LATERAL (SELECT CAST(${DAY_OF_YEAR} AS int) AS day) AS d
      ) AS s
    RETURNING 1
  )
  SELECT count(*) AS inserted FROM inserted`;
  const [row] = await db.rows<{ inserted: unknown }>(sql, [
    ...params.bindings,
    ...patientRangeBindings(range),
  ]);
  return toCount(row?.inserted);
}

import type { Knex } from 'knex';
import { type SqlRunner, sqlRunner, toCount } from '../db/sql-runner';
import { GOAL_PROVENANCE, SEED_ORIGIN, TABLES } from '../names';
import {
  ITEM_COUNT_PER_MILLE,
  ITEM_KINDS,
  type PlannedShapes,
  SESSION_SHAPES,
  type SessionShapeName,
} from './mix';
import {
  carePlanTaskIndex,
  caseByNumber,
  type GeneratorInput,
  generatorParamsCte,
  hashOf,
  itemKey,
  itemKindNumber,
  itemTaskIndex,
  numberOf,
  PATIENTS_CTE,
  type PatientRange,
  PLANNED_SESSIONS_CTE,
  patientRangeBindings,
  pickFromPool,
  pickTextFromPool,
  seededUuid,
} from './sql';

/**
 * The generating statements, each one set-based `INSERT … SELECT` (or count) built from sql.ts,
 * run in its own transaction: the users, the sessions of a range of patients, the demo goals,
 * and the count of the shapes the plan generates.
 */

/**
 * Runs one generating statement in its own transaction with JIT compilation off: the planner
 * cannot estimate generate_series over parameters, guesses billions of rows, and would spend
 * a second compiling a statement that then runs for milliseconds.
 */
export async function inGeneratorTransaction<Result>(
  knex: Knex,
  work: (db: SqlRunner) => Promise<Result>,
): Promise<Result> {
  return knex.transaction(async (trx) => {
    const db = sqlRunner(trx);
    await db.rows('SET LOCAL jit = off');
    return work(db);
  });
}

/** How many users of each role were inserted. */
export interface InsertedUsers {
  therapists: number;
  patients: number;
}

/**
 * One role's people: names from the pools, an email that is unique because it carries the
 * person's number, and an account older than the seeded year. Therapists hash even keys and
 * patients odd ones, so therapist 1 and patient 1 get different names.
 */
function people(role: 'therapist' | 'patient'): string {
  const key = role === 'therapist' ? 'u.no * 2' : 'u.no * 2 + 1';
  const count = role === 'therapist' ? 'params.therapists' : 'params.patients';
  const suffix =
    role === 'therapist'
      ? `', ' || ${pickTextFromPool('credentials', hashOf(key, 'credential'))}`
      : "''";
  const domain =
    role === 'therapist'
      ? 'params.therapist_domain'
      : pickTextFromPool('patient_domains', hashOf(key, 'emailDomain'));
  const joinedDaysAgo =
    role === 'therapist'
      ? `200 + ${hashOf(key, 'joinedDaysAgo')} % 1500`
      : `1 + ${hashOf(key, 'joinedDaysAgo')} % 180`;
  return `SELECT '${role}' AS role, u.no, ${seededUuid(role, 'u.no')} AS id,
           ${pickTextFromPool('first_names', hashOf(key, 'firstName'))} AS first_name,
           ${pickTextFromPool('last_names', hashOf(key, 'lastName'))} AS last_name,
           ${suffix} AS suffix, ${domain} AS domain,
           params.year_start - ((${joinedDaysAgo}) * 1440 - 480
             - ${hashOf(key, 'joinedMinute')} % 600) * interval '1 minute' AS created_at
      FROM params CROSS JOIN generate_series(1, ${count}) AS u(no)`;
}

/** Inserts the therapists and patients of the plan in one statement, and counts them. */
export async function insertSeedUsers(
  db: SqlRunner,
  input: GeneratorInput,
): Promise<InsertedUsers> {
  const params = generatorParamsCte(input);
  const sql = `WITH ${params.sql},
  inserted AS (
    INSERT INTO ${TABLES.users} (id, role, full_name, email, created_at)
    SELECT p.id, p.role, p.first_name || ' ' || p.last_name || p.suffix,
           lower(regexp_replace(p.first_name || '.' || p.last_name, '[^A-Za-z.]', '', 'g'))
             || '.' || p.no || '@' || p.domain,
           p.created_at
      FROM (${people('therapist')} UNION ALL ${people('patient')}) AS p
    RETURNING role
  )
  SELECT count(*) FILTER (WHERE role = 'therapist') AS therapists,
         count(*) FILTER (WHERE role = 'patient') AS patients
    FROM inserted`;
  const [row] = await db.rows<{ therapists: unknown; patients: unknown }>(sql, params.bindings);
  return { therapists: toCount(row?.therapists), patients: toCount(row?.patients) };
}

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
    INSERT INTO ${TABLES.goals} (id, patient_id, therapist_id, description, category, details, status, created_at, updated_at, ${GOAL_PROVENANCE.origin})
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

function zeroes<Name extends string>(entries: readonly { name: Name }[]): Record<Name, number> {
  return Object.fromEntries(entries.map((entry) => [entry.name, 0])) as Record<Name, number>;
}

/**
 * Counts the shapes that the session plan generates, from the plan alone: the same CTEs and
 * hashes as the insert, without building any JSON. Each session counts once (as item 0, of no
 * kind) under its shape; each action item counts under its kind.
 */
export async function countPlannedShapes(
  db: SqlRunner,
  input: GeneratorInput,
): Promise<PlannedShapes> {
  const params = generatorParamsCte(input);
  const withItems = numberOf(SESSION_SHAPES, 'action_items');
  const itemSlots = [
    '(0, CAST(NULL AS int))',
    ...ITEM_COUNT_PER_MILLE.map((_, index) => {
      const item = index + 1;
      return `(${item}, ${itemKindNumber(itemKey('p.n', String(item)))})`;
    }),
  ].join(', ');
  const sql = `WITH ${params.sql},
  ${PATIENTS_CTE},
  ${PLANNED_SESSIONS_CTE}
  SELECT p.shape_no, i.kind_no, count(*) AS n
    FROM planned AS p
    CROSS JOIN params
    CROSS JOIN LATERAL (VALUES ${itemSlots}) AS i(item_no, kind_no)
   WHERE i.item_no = 0 OR (p.shape_no = ${withItems} AND i.item_no <= p.item_count)
   GROUP BY p.shape_no, i.kind_no`;
  const rows = await db.rows<{ shape_no: unknown; kind_no: unknown; n: unknown }>(sql, [
    ...params.bindings,
    ...patientRangeBindings({ first: 1, last: input.population.patients }),
  ]);
  const planned: PlannedShapes = {
    sessionsByShape: zeroes(SESSION_SHAPES),
    itemsByKind: zeroes(ITEM_KINDS),
  };
  for (const row of rows) {
    const count = toCount(row.n);
    if (row.kind_no === null) {
      const shape = SESSION_SHAPES[toCount(row.shape_no) - 1];
      if (shape) planned.sessionsByShape[shape.name] += count;
    } else {
      const kind = ITEM_KINDS[toCount(row.kind_no) - 1];
      if (kind) planned.itemsByKind[kind.name] += count;
    }
  }
  return planned;
}

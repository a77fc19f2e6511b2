import { hashOf, seededUuid } from './deterministic-sql';

/**
 * The plan of the seeded practice as SQL CTEs over `params`: who the patients are and when
 * each of their sessions falls. The statement that inserts sessions and the one that counts
 * the planned shapes share these CTEs, so the counts describe exactly the rows inserted.
 */

/**
 * `patients`: one row per patient, with ids, primary therapist, care plan, and how many
 * sessions it gets. Each patient draws an integer weight (skewed towards light users); the
 * sessions are shared out by the running sum of weights in integer arithmetic, so they add up
 * to `params.sessions` exactly. Sessions fall every `cadence_days` from `start_day`.
 */
export const PATIENTS_CTE = `patients AS MATERIALIZED (
    SELECT c.patient_no, c.patient_id, c.therapist_no, c.therapist_id, c.plan_base,
           c.session_count, c.sessions_before, c.cadence_days,
           ${hashOf('c.patient_no', 'firstSessionDay')}
             % greatest(1, 365 - c.cadence_days * greatest(c.session_count - 1, 0)) AS start_day
      FROM (
        SELECT w.patient_no, ${seededUuid('patient', 'w.patient_no')} AS patient_id,
               w.therapist_no, ${seededUuid('therapist', 'w.therapist_no')} AS therapist_id,
               ${hashOf('w.patient_no', 'carePlan')} % params.tasks_count AS plan_base,
               (w.cumulative * params.sessions) / w.total
                 - ((w.cumulative - w.weight) * params.sessions) / w.total AS session_count,
               ((w.cumulative - w.weight) * params.sessions) / w.total AS sessions_before,
               greatest(1, least(28, 364 / greatest(
                 (w.cumulative * params.sessions) / w.total
                   - ((w.cumulative - w.weight) * params.sessions) / w.total, 1))) AS cadence_days
          FROM (
            SELECT r.patient_no, r.therapist_no, r.weight,
                   CAST(sum(r.weight) OVER (ORDER BY r.patient_no) AS bigint) AS cumulative,
                   CAST(sum(r.weight) OVER () AS bigint) AS total
              FROM (
                SELECT p.patient_no,
                       1 + ${hashOf('p.patient_no', 'therapistOfPatient')} % params.therapists AS therapist_no,
                       100 + (${hashOf('p.patient_no', 'patientWeight')} % 300)
                         * (${hashOf('p.patient_no', 'patientWeight')} % 300) / 300 AS weight
                  FROM params CROSS JOIN generate_series(1, params.patients) AS p(patient_no)
              ) AS r
          ) AS w
          CROSS JOIN params
      ) AS c
      CROSS JOIN params
     ORDER BY c.patient_id
  )`;

/** A range of patients, by number (1-based, inclusive), whose sessions one statement covers. */
export interface PatientRange {
  first: number;
  last: number;
}

/**
 * `planned`: one row per session of the patients in `range` (two bindings), in patient order:
 * its number `n` (1 to params.sessions), its patient, the nominal day of the year, its shape
 * (1-based, in SESSION_SHAPES order) and, for sessions with action items, how many.
 */
export const PLANNED_SESSIONS_CTE = `planned AS (
    SELECT s.*,
           width_bucket(${hashOf('s.n', 'sessionShape')} % 1000, params.shape_bounds) AS shape_no,
           width_bucket(${hashOf('s.n', 'itemCount')} % 1000, params.item_count_bounds) AS item_count
      FROM (
        SELECT pt.patient_no, pt.patient_id, pt.therapist_no, pt.therapist_id, pt.plan_base,
               pt.cadence_days, pt.sessions_before + k.k AS n,
               pt.start_day + (k.k - 1) * pt.cadence_days AS nominal_day
          FROM patients AS pt
          CROSS JOIN LATERAL generate_series(1, pt.session_count) AS k(k)
         WHERE pt.patient_no BETWEEN CAST(? AS bigint) AND CAST(? AS bigint)
      ) AS s
      CROSS JOIN params
  )`;

/** The bindings of {@link PLANNED_SESSIONS_CTE}. */
export function patientRangeBindings(range: PatientRange): number[] {
  return [range.first, range.last];
}

/** The hash key of item `item` (1-based) of session `session`. */
export function itemKey(session: string, item: string): string {
  return `(${session} * 8 + ${item})`;
}

/** The kind of an item (1-based, in ITEM_KINDS order), given its key. */
export function itemKindNumber(key: string): string {
  return `width_bucket(${hashOf(key, 'itemKind')} % 1000, params.item_kind_bounds)`;
}

/**
 * The pool index of slot `slot` of the care plan that starts at `planBase`. The seeded
 * sessions and the clinician goals both use it, which is how some goals collide.
 */
export function carePlanTaskIndex(planBase: string, slot: string): string {
  return `CAST((${planBase} + (${slot}) * params.care_plan_stride) % params.tasks_count AS int)`;
}

/**
 * The task pool index of an item of the session whose care plan starts at `planBase`: a task of
 * the plan (so it recurs across the patient's sessions), or any task.
 */
export function itemTaskIndex(planBase: string, key: string): string {
  return `CASE WHEN ${hashOf(key, 'carriedOver')} % 100 < params.carried_over_percent
      THEN ${carePlanTaskIndex(planBase, `${hashOf(key, 'carePlanSlot')} % params.care_plan_size`)}
      ELSE CAST(${hashOf(key, 'anyTask')} % params.tasks_count AS int) END`;
}

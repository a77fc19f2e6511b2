import { GOAL_STATUSES } from '../names';
import {
  bucketLowerBounds,
  CLINICIAN_GOALS,
  ITEM_COUNT_PER_MILLE,
  ITEM_KINDS,
  POPULATION,
  type Population,
  SEEDED_YEAR_START,
  SESSION_SHAPES,
} from './mix';
import type { SeedPools } from './pools';

/**
 * The SQL every generating statement is built from, in the order a statement reads: the
 * `params` CTE that carries the seed, the pools and the shares; the hashes that stand in for
 * randomness; picking from a pool or a table of shares; and the plan of the practice (who the
 * patients are, and when each session falls).
 */

/** Everything one seeding needs to generate its rows. */
export interface GeneratorInput {
  seed: number;
  sessions: number;
  population: Population;
  pools: SeedPools;
}

/** A CTE to put first in a generating statement, with its bindings. */
export interface ParamsCte {
  sql: string;
  bindings: unknown[];
}

/**
 * Spacing of a patient's care-plan tasks in the task pool, so that a plan mixes categories.
 * Any value below the pool size over the plan size keeps the plan's tasks distinct.
 */
export const CARE_PLAN_STRIDE = 37;

/** The pools, as `params` columns: the JSON array and its length (`<column>_count`). */
const POOL_COLUMNS = {
  tasks: 'tasks',
  actionItems: 'action_items',
  noteTemplates: 'note_templates',
  firstNames: 'first_names',
  lastNames: 'last_names',
  credentials: 'credentials',
  patientDomains: 'patient_domains',
  clinicianGoals: 'clinician_goals',
  clinicianDetails: 'clinician_details',
  categories: 'categories',
  placeholderNotes: 'placeholder_notes',
  statuses: 'statuses',
} as const;

/** Bucket bounds for `width_bucket`, as bigint[] `params` columns. */
const BOUND_COLUMNS = {
  shapeBounds: 'shape_bounds',
  itemKindBounds: 'item_kind_bounds',
  itemCountBounds: 'item_count_bounds',
  statusBounds: 'status_bounds',
} as const;

/** Whole-number settings, as bigint `params` columns. */
const SETTING_COLUMNS = {
  carePlanSize: 'care_plan_size',
  carePlanStride: 'care_plan_stride',
  carriedOverPercent: 'carried_over_percent',
  withoutTherapistPerMille: 'without_therapist_per_mille',
  coveredPerMille: 'covered_per_mille',
  firstGoalPerMille: 'first_goal_per_mille',
  secondGoalPerMille: 'second_goal_per_mille',
  goalFromCarePlanPercent: 'goal_from_care_plan_percent',
} as const;

function generatorJson(input: GeneratorInput): string {
  return JSON.stringify({
    ...input.pools,
    statuses: [...GOAL_STATUSES],
    shapeBounds: bucketLowerBounds(SESSION_SHAPES.map((shape) => shape.perMille)),
    itemKindBounds: bucketLowerBounds(ITEM_KINDS.map((kind) => kind.perMille)),
    itemCountBounds: bucketLowerBounds(ITEM_COUNT_PER_MILLE),
    statusBounds: bucketLowerBounds(CLINICIAN_GOALS.statusPerMille),
    carePlanSize: POPULATION.carePlanSize,
    carePlanStride: CARE_PLAN_STRIDE,
    carriedOverPercent: POPULATION.carriedOverPercent,
    withoutTherapistPerMille: POPULATION.sessionsWithoutTherapistPerMille,
    coveredPerMille: POPULATION.coveredSessionsPerMille,
    firstGoalPerMille: CLINICIAN_GOALS.firstGoalPerMille,
    secondGoalPerMille: CLINICIAN_GOALS.secondGoalPerMille,
    goalFromCarePlanPercent: CLINICIAN_GOALS.fromCarePlanPercent,
  });
}

function columns(): string {
  const pools = Object.entries(POOL_COLUMNS).map(
    ([key, column]) =>
      `g -> '${key}' AS ${column}, CAST(jsonb_array_length(g -> '${key}') AS bigint) AS ${column}_count`,
  );
  const bounds = Object.entries(BOUND_COLUMNS).map(
    ([key, column]) =>
      `ARRAY(SELECT CAST(b.value AS bigint)
               FROM jsonb_array_elements_text(g -> '${key}') WITH ORDINALITY AS b(value, position)
              ORDER BY b.position) AS ${column}`,
  );
  const settings = Object.entries(SETTING_COLUMNS).map(
    ([key, column]) => `CAST(g ->> '${key}' AS bigint) AS ${column}`,
  );
  return [...pools, ...bounds, ...settings, "g ->> 'therapistDomain' AS therapist_domain"].join(
    ',\n           ',
  );
}

/** The day of the week of an ISO date, 0 for Monday to 6 for Sunday. */
function mondayBasedWeekday(isoDate: string): number {
  return (new Date(`${isoDate}T00:00:00Z`).getUTCDay() + 6) % 7;
}

/**
 * The `params` CTE every generating statement starts with: the seed, the sizes, the first
 * instant of the seeded year (UTC) and its weekday, and the pools, bounds and settings, which travel as ONE jsonb binding and
 * are unpacked here once, not per row.
 */
export function generatorParamsCte(input: GeneratorInput): ParamsCte {
  const sql = `params AS MATERIALIZED (
    SELECT CAST(? AS bigint) AS seed, CAST(? AS bigint) AS sessions,
           CAST(? AS bigint) AS patients, CAST(? AS bigint) AS therapists,
           CAST(? AS timestamptz) AS year_start,
           CAST(? AS int) AS year_start_weekday,
           ${columns()}
      FROM (SELECT CAST(? AS jsonb) AS g) AS input
  )`;
  return {
    sql,
    bindings: [
      input.seed,
      input.sessions,
      input.population.patients,
      input.population.therapists,
      `${SEEDED_YEAR_START}T00:00:00Z`,
      mondayBasedWeekday(SEEDED_YEAR_START),
      generatorJson(input),
    ],
  };
}

/**
 * Hashes instead of randomness: SQL fragments that replace random choices with a hash of the
 * row number, so that the same seed gives the same rows on every run, on any machine. They
 * refer to the `params` CTE, whose `seed` column salts every hash.
 */

/**
 * Independent hash streams: each choice draws from its own stream, so changing how one
 * choice is made never shifts another. The numbers are part of the data: changing one
 * changes the seeded rows.
 */
export const HASH_STREAMS = {
  patientWeight: 1,
  therapistOfPatient: 2,
  carePlan: 3,
  firstSessionDay: 4,
  firstName: 5,
  lastName: 6,
  credential: 7,
  emailDomain: 8,
  joinedDaysAgo: 9,
  joinedMinute: 10,
  sessionShape: 20,
  itemCount: 21,
  noteTemplate: 22,
  shapeVariant: 23,
  sessionTime: 24,
  dayJitter: 25,
  therapistCover: 26,
  coveringTherapist: 27,
  itemKind: 40,
  carriedOver: 41,
  carePlanSlot: 42,
  anyTask: 43,
  itemVariant: 44,
  goalChosen: 60,
  goalFromCarePlan: 61,
  goalWording: 62,
  goalCategory: 63,
  goalDetails: 64,
  goalStatus: 65,
  goalCreatedDay: 66,
  goalUpdatedDays: 67,
  therapistIdHigh: 100,
  therapistIdLow: 101,
  patientIdHigh: 102,
  patientIdLow: 103,
  sessionIdHigh: 104,
  sessionIdLow: 105,
  goalIdHigh: 106,
  goalIdLow: 107,
} as const;

export type HashStream = keyof typeof HASH_STREAMS;

/** Streams per seed: each seed owns this many consecutive hash salts. */
const STREAMS_PER_SEED = 1024;

/**
 * A non-negative bigint hash of the integer SQL `expression` in `stream`. Use `% m` for a
 * choice among m, or compare `% 1000` with a share in thousandths.
 */
export function hashOf(expression: string, stream: HashStream): string {
  return `(hashint8extended(CAST(${expression} AS bigint), params.seed * ${STREAMS_PER_SEED} + ${HASH_STREAMS[stream]}) & 9223372036854775807)`;
}

/** The kinds of rows that get a seeded id; each kind has its own id space. */
export type SeededIdKind = 'therapist' | 'patient' | 'session' | 'goal';

/** Clears the version nibble (bits 12–15) of the high half and sets it to 8. */
const VERSION_8 = '& -61441) | 32768';
/** Sets the top two bits of the low half to 10, the RFC 9562 variant. */
const RFC_VARIANT = '& 4611686018427387903) | -9223372036854775808';

/**
 * A UUID derived from the seed, the kind of row and the integer SQL `expression`: two 64-bit
 * hashes, stamped as an RFC 9562 version 8 (custom) UUID with the RFC variant. About four
 * times cheaper than an MD5, which matters at a million rows.
 */
export function seededUuid(kind: SeededIdKind, expression: string): string {
  const salt = (stream: HashStream) =>
    `params.seed * ${STREAMS_PER_SEED} + ${HASH_STREAMS[stream]}`;
  const half = (stream: HashStream, stamp: string) =>
    `int8send((hashint8extended(CAST(${expression} AS bigint), ${salt(stream)}) ${stamp})`;
  return `CAST(encode(${half(`${kind}IdHigh`, VERSION_8)} || ${half(`${kind}IdLow`, RFC_VARIANT)}, 'hex') AS uuid)`;
}

/**
 * Choosing from the pools of the `params` CTE (above), where each pool is a
 * JSON array column with its length in `<pool>_count`.
 */

/** Element number `index` (a non-negative bigint SQL expression, taken modulo the pool's length) of `pool`, as jsonb. */
export function pickFromPool(pool: string, index: string): string {
  return `(params.${pool} -> CAST((${index}) % params.${pool}_count AS int))`;
}

/** The same element as {@link pickFromPool}, as text. */
export function pickTextFromPool(pool: string, index: string): string {
  return `(params.${pool} ->> CAST((${index}) % params.${pool}_count AS int))`;
}

/**
 * `CASE <number> WHEN 1 THEN … WHEN 2 THEN … END` over `entries`, in order: the SQL side of
 * choosing by a 1-based bucket number from `width_bucket`. `expressionOf` must cover every
 * name, which the Record type enforces.
 */
export function caseByNumber<Name extends string>(
  numberExpression: string,
  entries: readonly { name: Name }[],
  expressionOf: Readonly<Record<Name, string>>,
): string {
  const branches = entries.map(
    (entry, index) => `WHEN ${index + 1} THEN ${expressionOf[entry.name]}`,
  );
  return `CASE ${numberExpression} ${branches.join(' ')} END`;
}

/** The 1-based bucket number of `name` in `entries`, as `width_bucket` yields it. */
export function numberOf<Name extends string>(
  entries: readonly { name: Name }[],
  name: Name,
): number {
  return entries.findIndex((entry) => entry.name === name) + 1;
}

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

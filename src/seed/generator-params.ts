import { GOAL_STATUSES } from '../schema/goal-vocabulary';
import type { Population } from './population';
import type { SeedPools } from './seed-pools';
import {
  bucketLowerBounds,
  CLINICIAN_GOALS,
  ITEM_COUNT_PER_MILLE,
  ITEM_KINDS,
  POPULATION,
  SEEDED_YEAR_START,
  SESSION_SHAPES,
} from './seed-proportions';

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

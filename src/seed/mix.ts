import type { InvalidItemReason, SessionSkipReason } from '../backfill/rules';
import type { BackfillResult } from '../backfill/store';
import { GoalBackfillError } from '../errors';

/**
 * The mix of data the seeds generate, defined once, and what the backfill must count on it.
 * The SQL generator draws every choice from these tables, and the seed's statistics map them
 * onto the backfill's counts, so a change here changes both the data and what the tests expect
 * of it.
 */

/** One row of a table of shares. */
interface Share {
  name: string;
  /** Share of all sessions (or items), in thousandths. The shares of a table add up to 1000. */
  perMille: number;
}

/** One kind of `extracted_notes` a seeded session gets. */
export interface SessionShape extends Share {
  /** What the backfill makes of it: null when its action items are read, else why it is skipped. */
  skipReason: SessionSkipReason | null;
}

/**
 * The shapes of `extracted_notes`, most common first.
 * - `action_items`: a notes object with 1–4 action items (the items vary, see ITEM_KINDS);
 * - `summary_only`: a notes object without `action_items`;
 * - `sql_null`: SQL NULL (notes not extracted yet);
 * - `empty_action_items`: `action_items: []`;
 * - `action_items_not_array`: `action_items` is one item object, a string or a number;
 * - `json_null`: the JSON value `null`;
 * - `notes_not_object`: a bare string, or a top-level array of items (the legacy format);
 * - `action_items_null`: `action_items: null`.
 */
export const SESSION_SHAPES = [
  { name: 'action_items', perMille: 690, skipReason: null },
  { name: 'summary_only', perMille: 100, skipReason: 'action_items_missing' },
  { name: 'sql_null', perMille: 80, skipReason: 'notes_null' },
  { name: 'empty_action_items', perMille: 50, skipReason: 'action_items_empty' },
  { name: 'action_items_not_array', perMille: 25, skipReason: 'action_items_not_array' },
  { name: 'json_null', perMille: 20, skipReason: 'notes_null' },
  { name: 'notes_not_object', perMille: 20, skipReason: 'notes_not_object' },
  { name: 'action_items_null', perMille: 15, skipReason: 'action_items_missing' },
] as const satisfies readonly SessionShape[];

export type SessionShapeName = (typeof SESSION_SHAPES)[number]['name'];

/** One kind of action item inside a session of shape `action_items`. */
export interface ItemKind extends Share {
  /** Null when the item becomes a goal (or a duplicate), else why the backfill skips it. */
  invalidReason: InvalidItemReason | null;
}

/**
 * The kinds of action items.
 * - `complete`: `task`, `category` and `details`;
 * - `no_category`, `no_details`, `task_only`: the same with keys left out;
 * - `padded_task`: the task wrapped in whitespace (trimmed, it matches the unpadded task);
 * - `blank_task`: `task` empty or whitespace only (JavaScript's trim set, e.g. U+00A0, U+3000);
 * - `missing_task`: no `task` key, or `task: null`;
 * - `task_not_a_string`: `task` is a number;
 * - `not_an_object`: the item is a bare string, a number or `null`.
 */
export const ITEM_KINDS = [
  { name: 'complete', perMille: 700, invalidReason: null },
  { name: 'no_category', perMille: 80, invalidReason: null },
  { name: 'no_details', perMille: 80, invalidReason: null },
  { name: 'task_only', perMille: 30, invalidReason: null },
  { name: 'padded_task', perMille: 30, invalidReason: null },
  { name: 'blank_task', perMille: 30, invalidReason: 'blank_task' },
  { name: 'missing_task', perMille: 15, invalidReason: 'missing_task' },
  { name: 'task_not_a_string', perMille: 15, invalidReason: 'task_not_a_string' },
  { name: 'not_an_object', perMille: 20, invalidReason: 'not_an_object' },
] as const satisfies readonly ItemKind[];

export type ItemKindName = (typeof ITEM_KINDS)[number]['name'];

/** How many action items a session of shape `action_items` has, in thousandths: 1, 2, 3 or 4. */
export const ITEM_COUNT_PER_MILLE = [250, 350, 250, 150] as const;

/** The people and habits behind the sessions. */
export const POPULATION = {
  /** Average sessions per patient over the year; each patient gets 0.5× to 2× of it. */
  sessionsPerPatient: 20,
  /** Patients per therapist (each patient has one primary therapist). */
  patientsPerTherapist: 30,
  /** Sessions without a therapist recorded, in thousandths. */
  sessionsWithoutTherapistPerMille: 20,
  /** Sessions held by a covering therapist instead of the primary one, in thousandths. */
  coveredSessionsPerMille: 50,
  /** Tasks in each patient's care plan; the plan's tasks recur across the patient's sessions. */
  carePlanSize: 8,
  /** Valid items whose task comes from the patient's care plan (so it repeats), in percent. */
  carriedOverPercent: 60,
} as const;

/**
 * Demo goals worded as clinicians enter them by hand, inserted before the backfill with origin
 * 'seed' (demo data, never clinical: they hold no rollback back).
 */
export const CLINICIAN_GOALS = {
  /** Patients with a first clinician goal, in thousandths. */
  firstGoalPerMille: 60,
  /** Patients with a second clinician goal (independently of the first), in thousandths. */
  secondGoalPerMille: 20,
  /** Clinician goals worded as a task of the patient's care plan, in percent: they collide with backfilled items. */
  fromCarePlanPercent: 50,
  /** Statuses of clinician goals, in thousandths, in the order of GOAL_STATUSES. */
  statusPerMille: [300, 450, 200, 50],
} as const;

/** The first day of the seeded year (UTC); sessions fall on weekdays of that year. */
export const SEEDED_YEAR_START = '2025-01-01';

/**
 * Lower bounds of the buckets that shares in thousandths (or percent) define, for SQL's
 * `width_bucket(value, bounds)`: shares [690, 100, …] become bounds [0, 690, 790, …].
 */
export function bucketLowerBounds(shares: readonly number[]): number[] {
  const bounds: number[] = [];
  let total = 0;
  for (const share of shares) {
    bounds.push(total);
    total += share;
  }
  return bounds;
}

/** How many people a seed of a given size has. */
export interface Population {
  patients: number;
  therapists: number;
}

/**
 * The patients and therapists behind `sessions` sessions: about
 * {@link POPULATION.sessionsPerPatient} sessions per patient and
 * {@link POPULATION.patientsPerTherapist} patients per therapist, at least one of each.
 */
export function planPopulation(sessions: number): Population {
  const patients = Math.max(1, Math.round(sessions / POPULATION.sessionsPerPatient));
  const therapists = Math.max(1, Math.ceil(patients / POPULATION.patientsPerTherapist));
  return { patients, therapists };
}

/** How many sessions of each shape, and items of each kind, a seeding generates. */
export interface PlannedShapes {
  sessionsByShape: Record<SessionShapeName, number>;
  itemsByKind: Record<ItemKindName, number>;
}

/** What the backfill must count on freshly seeded data, derived from the planned shapes. */
export interface ExpectedBackfill {
  sessionsProcessed: number;
  sessionsWithActionItems: number;
  /** Only the reasons that occur, as the backfill reports them. */
  sessionsSkippedByReason: Partial<Record<SessionSkipReason, number>>;
  itemsSeen: number;
  /** Valid items: each becomes a goal or counts as a duplicate (`goalsCreated + duplicatesSkipped`). */
  validItems: number;
  invalidSkipped: number;
  /** Only the reasons that occur, as the backfill reports them. */
  invalidByReason: Partial<Record<InvalidItemReason, number>>;
}

function addTo<Key extends string>(record: Partial<Record<Key, number>>, key: Key, n: number) {
  if (n > 0) record[key] = (record[key] ?? 0) + n;
}

/** Maps the planned shapes onto the counts the backfill reports, through SESSION_SHAPES and ITEM_KINDS. */
export function expectedBackfillOf(planned: PlannedShapes): ExpectedBackfill {
  const expected: ExpectedBackfill = {
    sessionsProcessed: 0,
    sessionsWithActionItems: 0,
    sessionsSkippedByReason: {},
    itemsSeen: 0,
    validItems: 0,
    invalidSkipped: 0,
    invalidByReason: {},
  };
  for (const shape of SESSION_SHAPES) {
    const sessions = planned.sessionsByShape[shape.name];
    expected.sessionsProcessed += sessions;
    if (shape.skipReason === null) expected.sessionsWithActionItems += sessions;
    else addTo(expected.sessionsSkippedByReason, shape.skipReason, sessions);
  }
  for (const kind of ITEM_KINDS) {
    const items = planned.itemsByKind[kind.name];
    expected.itemsSeen += items;
    if (kind.invalidReason === null) expected.validItems += items;
    else {
      expected.invalidSkipped += items;
      addTo(expected.invalidByReason, kind.invalidReason, items);
    }
  }
  return expected;
}

/**
 * The counts on which a backfill of freshly seeded data disagrees with what the generator
 * planned, as `name: reported N, planned M`. Empty when everything matches.
 */
export function compareWithPlan(result: BackfillResult, plan: ExpectedBackfill): string[] {
  const pairs: [string, unknown, unknown][] = [
    ['sessionsProcessed', result.sessionsProcessed, plan.sessionsProcessed],
    ['sessionsWithActionItems', result.sessionsWithActionItems, plan.sessionsWithActionItems],
    ['itemsSeen', result.itemsSeen, plan.itemsSeen],
    [
      'goalsCreated + duplicatesSkipped',
      result.goalsCreated + result.duplicatesSkipped,
      plan.validItems,
    ],
    ['invalidSkipped', result.invalidSkipped, plan.invalidSkipped],
    [
      'invalidByReason',
      JSON.stringify(sorted(result.invalidByReason)),
      JSON.stringify(sorted(plan.invalidByReason)),
    ],
    [
      'sessionsSkippedByReason',
      JSON.stringify(sorted(result.sessionsSkippedByReason)),
      JSON.stringify(sorted(plan.sessionsSkippedByReason)),
    ],
  ];
  return pairs
    .filter(([, reported, planned]) => reported !== planned)
    .map(
      ([name, reported, planned]) =>
        `${name}: reported ${String(reported)}, planned ${String(planned)}`,
    );
}

/** The counts of `counts` above zero: the reasons that occur, as the backfill reports them. */
export function occurring(counts: Partial<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts).filter((entry): entry is [string, number] => (entry[1] ?? 0) > 0),
  );
}

function sorted(record: Partial<Record<string, number>>): [string, number][] {
  return Object.entries(occurring(record)).sort(([a], [b]) => (a < b ? -1 : 1));
}

/** The backfill's counts on seeded data differ from what the seeds planned (counts only). */
export class SeedMismatchError extends GoalBackfillError {
  readonly code = 'SEED_MISMATCH';

  constructor(readonly mismatches: readonly string[]) {
    super(`the backfill disagrees with the seeded data: ${mismatches.join('; ')}`);
  }
}

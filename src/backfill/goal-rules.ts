/**
 * The backfill's rules, defined once. The SQL that applies them is generated from these
 * constants (see goal-statement.ts), and the tests check the SQL against a reference model.
 */

/**
 * The characters that JavaScript's `String.prototype.trim` removes: WhiteSpace and
 * LineTerminator in ECMAScript 2024. U+0085, U+180E and U+200B are deliberately absent,
 * because `trim` keeps them too.
 */
export const JS_TRIM_CHARACTERS =
  '\u0009\u000A\u000B\u000C\u000D\u0020\u00A0\u1680' +
  '\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A' +
  '\u2028\u2029\u202F\u205F\u3000\uFEFF';

/** The category of a goal whose item has no usable category. */
export const DEFAULT_CATEGORY = 'general';

/** The status every backfilled goal starts in. */
export const BACKFILLED_GOAL_STATUS = 'assigned';

/** The `origin` of goals the backfill creates. */
export const BACKFILL_ORIGIN = 'backfill';
/** The `origin` of goals clinicians entered (the column's default): clinical data, never deleted. */
export const CLINICIAN_ORIGIN = 'clinician';
/** The `origin` of the demo goals the seeds create in a local database: not clinical data. */
export const SEED_ORIGIN = 'seed';
/** Every `origin` a goal can have. */
export const GOAL_ORIGINS = [CLINICIAN_ORIGIN, BACKFILL_ORIGIN, SEED_ORIGIN] as const;
export type GoalOrigin = (typeof GOAL_ORIGINS)[number];

/** The goal statuses the app allows. */
export const GOAL_STATUSES = ['assigned', 'in_progress', 'completed', 'abandoned'] as const;

/**
 * Why a session yields no goals, in the order the checks apply. None of them is an error.
 * - `notes_null`: `extracted_notes` is SQL NULL or JSON null;
 * - `notes_not_object`: it is a string, number, boolean or array;
 * - `action_items_missing`: the object has no `action_items`, or it is null;
 * - `action_items_not_array`: `action_items` is an object, string, number or boolean;
 * - `action_items_empty`: `action_items` is an empty array.
 */
export const SESSION_SKIP_REASONS = [
  'notes_null',
  'notes_not_object',
  'action_items_missing',
  'action_items_not_array',
  'action_items_empty',
] as const;

/**
 * Why a session cannot be placed in the reading order (patient_id, session_date, id), counted
 * among the skipped sessions. It yields no goals, and it never ends a run early.
 * - `session_key_null`: `patient_id` or `session_date` is NULL (an app made the column nullable).
 */
export const UNPLACED_SESSION_REASONS = ['session_key_null'] as const;
export type UnplacedSessionReason = (typeof UNPLACED_SESSION_REASONS)[number];

export type SessionSkipReason = (typeof SESSION_SKIP_REASONS)[number] | UnplacedSessionReason;

/**
 * Why an action item is skipped as invalid, in the order the checks apply.
 * - `not_an_object`: the item is a string, number, boolean, null or array;
 * - `missing_task`: the item has no `task`, or it is null;
 * - `task_not_a_string`: `task` is a number, boolean, object or array;
 * - `blank_task`: `task` is empty or whitespace only.
 */
export const INVALID_ITEM_REASONS = [
  'not_an_object',
  'missing_task',
  'task_not_a_string',
  'blank_task',
] as const;
export type InvalidItemReason = (typeof INVALID_ITEM_REASONS)[number];

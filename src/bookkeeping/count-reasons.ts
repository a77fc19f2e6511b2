/**
 * The names of what a backfill counts, owned with the run records that store the counts. The
 * rules that decide them are in src/backfill/goal-rules.ts.
 */

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
 * - `blank_task`: `task` is empty or whitespace only;
 * - `task_too_long`: the trimmed `task` has more characters than treatment_goals.description
 *   takes (an app's `varchar(n)`);
 * - `category_too_long`: the category the goal would get has more characters than
 *   treatment_goals.category takes;
 * - `details_too_long`: `details` has more characters than treatment_goals.details takes.
 *
 * The last three only occur in a treatment_goals whose columns have a length limit: a value is
 * never truncated, and never fails its session.
 */
export const INVALID_ITEM_REASONS = [
  'not_an_object',
  'missing_task',
  'task_not_a_string',
  'blank_task',
  'task_too_long',
  'category_too_long',
  'details_too_long',
] as const;
export type InvalidItemReason = (typeof INVALID_ITEM_REASONS)[number];

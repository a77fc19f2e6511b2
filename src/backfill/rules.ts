/**
 * The backfill's rules, defined once. The SQL that applies them is generated from these
 * constants (see statement.ts), and the tests check the SQL against a reference model.
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

/**
 * The names of what a backfill counts, beside the rules that decide them; the run records
 * (src/backfill/store.ts) store the counts.
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

/**
 * What a backfill saw and did. The counts reconcile:
 * `itemsSeen = goalsCreated + duplicatesSkipped + invalidSkipped + itemsInFailedSessions`.
 */
export interface BackfillCounts {
  /** Sessions read. */
  sessionsProcessed: number;
  /** Sessions whose `action_items` is a non-empty array. */
  sessionsWithActionItems: number;
  /** Sessions that yield no goals, by reason. They are not errors. */
  sessionsSkippedByReason: Partial<Record<SessionSkipReason, number>>;
  /** Action items read, valid or not. */
  itemsSeen: number;
  /** Goals inserted (or, in a dry run, that would be). */
  goalsCreated: number;
  /** Valid items whose (patient_id, description) already had a goal, or had an earlier occurrence. */
  duplicatesSkipped: number;
  /** Items skipped as invalid; the sum of `invalidByReason`. */
  invalidSkipped: number;
  invalidByReason: Partial<Record<InvalidItemReason, number>>;
  /** Sessions whose goals could not be written: each was rolled back and recorded. */
  errors: number;
  /** Action items of the failed sessions, which produced nothing. */
  itemsInFailedSessions: number;
}

export function emptyCounts(): BackfillCounts {
  return {
    sessionsProcessed: 0,
    sessionsWithActionItems: 0,
    sessionsSkippedByReason: {},
    itemsSeen: 0,
    goalsCreated: 0,
    duplicatesSkipped: 0,
    invalidSkipped: 0,
    invalidByReason: {},
    errors: 0,
    itemsInFailedSessions: 0,
  };
}

function addByKey<K extends string>(
  a: Partial<Record<K, number>>,
  b: Partial<Record<K, number>>,
): Partial<Record<K, number>> {
  const sum: Partial<Record<K, number>> = { ...a };
  for (const [key, value] of Object.entries(b) as [K, number | undefined][]) {
    sum[key] = (sum[key] ?? 0) + (value ?? 0);
  }
  return sum;
}

/** The sum of two sets of counts. */
export function addCounts(a: BackfillCounts, b: BackfillCounts): BackfillCounts {
  return {
    sessionsProcessed: a.sessionsProcessed + b.sessionsProcessed,
    sessionsWithActionItems: a.sessionsWithActionItems + b.sessionsWithActionItems,
    sessionsSkippedByReason: addByKey(a.sessionsSkippedByReason, b.sessionsSkippedByReason),
    itemsSeen: a.itemsSeen + b.itemsSeen,
    goalsCreated: a.goalsCreated + b.goalsCreated,
    duplicatesSkipped: a.duplicatesSkipped + b.duplicatesSkipped,
    invalidSkipped: a.invalidSkipped + b.invalidSkipped,
    invalidByReason: addByKey(a.invalidByReason, b.invalidByReason),
    errors: a.errors + b.errors,
    itemsInFailedSessions: a.itemsInFailedSessions + b.itemsInFailedSessions,
  };
}

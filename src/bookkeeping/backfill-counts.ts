import type { InvalidItemReason, SessionSkipReason } from './count-reasons';

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

import { type BackfillCounts, emptyCounts } from '../bookkeeping/backfill-counts';
import type { StatementCountsRow } from './goal-statement';

function sumValues(record: Partial<Record<string, number>>): number {
  return Object.values(record).reduce<number>((total, n) => total + (n ?? 0), 0);
}

/** The counts of a statement that succeeded. */
export function countsFromStatement(row: StatementCountsRow): BackfillCounts {
  const invalidSkipped = sumValues(row.invalid_by_reason);
  return {
    ...emptyCounts(),
    sessionsProcessed: row.sessions,
    sessionsWithActionItems: row.sessions_with_action_items,
    sessionsSkippedByReason: row.sessions_skipped_by_reason,
    itemsSeen: row.items_seen,
    goalsCreated: row.goals_created,
    duplicatesSkipped: row.valid_items - row.goals_created,
    invalidSkipped,
    invalidByReason: row.invalid_by_reason,
  };
}

/** The counts of a session whose write failed: read and counted, but nothing of it kept. */
export function countsOfFailedSession(row: StatementCountsRow): BackfillCounts {
  return {
    ...emptyCounts(),
    sessionsProcessed: row.sessions,
    sessionsWithActionItems: row.sessions_with_action_items,
    sessionsSkippedByReason: row.sessions_skipped_by_reason,
    itemsSeen: row.items_seen,
    errors: 1,
    itemsInFailedSessions: row.items_seen,
  };
}

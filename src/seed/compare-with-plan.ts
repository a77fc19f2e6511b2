import type { BackfillResult } from '../backfill/backfill-result';
import type { ExpectedBackfill } from './seed-stats';

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

function sorted(record: Partial<Record<string, number>>): [string, number][] {
  return Object.entries(record)
    .filter((entry): entry is [string, number] => (entry[1] ?? 0) > 0)
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

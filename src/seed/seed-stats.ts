import type { InvalidItemReason, SessionSkipReason } from '../bookkeeping/count-reasons';
import type { PlannedShapes } from './count-planned-shapes';
import {
  ITEM_KINDS,
  type ItemKindName,
  SESSION_SHAPES,
  type SessionShapeName,
} from './seed-proportions';

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

/** What {@link seedDatabase} generated. */
export interface SeedStats {
  seed: number;
  /** Sessions inserted; equals the sessions asked for. */
  sessions: number;
  therapists: number;
  patients: number;
  /** Therapists and patients. */
  users: number;
  /** Demo goals worded as clinicians enter them by hand; stored with origin 'seed'. */
  clinicianGoals: number;
  /** Of those, goals worded as a task of the patient's care plan, which the backfill meets again. */
  clinicianGoalsFromCarePlans: number;
  sessionsByShape: Record<SessionShapeName, number>;
  itemsByKind: Record<ItemKindName, number>;
  expectedBackfill: ExpectedBackfill;
  /** Wall time of the whole load, reset included. */
  durationMs: number;
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

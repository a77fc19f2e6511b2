import { type SqlRunner, toCount } from '../db/connection';
import type { PassShortfall } from '../errors';
import { TABLES } from '../names';
import {
  hasSessionKey,
  inAnyPass,
  inPatientRange,
  inReadWindow,
  type DateKind,
  keyAfter,
  keyBindings,
  type LaneSplit,
  type PatientLane,
  type ReadPass,
  type ReadWindow,
  readSessionDateKind,
} from './reading';
import { type BackfillCounts, emptyCounts } from './rules';

/** How many sessions the table holds: a run's start counts them, for progress. */
export async function countSessions(db: SqlRunner): Promise<number> {
  const [row] = await db.rows<{ n: unknown }>(`SELECT count(*) AS n FROM ${TABLES.sessions}`);
  return toCount(row?.n);
}

/** What the table holds in a pass's window, counted after the pass. */
export interface PassCensus {
  /** Sessions with a key: the pass should have read each of them. */
  placed: number;
  /** Sessions with a key after the pass's last key: outside every page it read. */
  beyond: number;
  /** Sessions with a NULL in their key, which no page can read. */
  keyNull: number;
}

/**
 * SQL true when the session `alias` lies beyond what a pass read: in no lane, or after its
 * lane's cursor. A pass that read nothing (no lanes, or none with a key) read none.
 */
function beyondLanes(
  alias: string,
  lanes: readonly PatientLane[],
  sessionDate: DateKind,
  bindings: unknown[],
): string {
  const covered = lanes.flatMap((lane) => {
    if (lane.cursor === null) return [];
    const range = inPatientRange(alias, lane, bindings);
    bindings.push(...keyBindings(lane.cursor));
    return [`(${range} AND NOT ${keyAfter(alias, sessionDate)})`];
  });
  return covered.length === 0 ? 'true' : `NOT (${covered.join(' OR ')})`;
}

/** Counts the sessions of `window` (every pass so far when null) against the `lanes` it read. */
export async function censusOfPass(
  db: SqlRunner,
  window: ReadWindow | null,
  lanes: readonly PatientLane[],
): Promise<PassCensus> {
  const bindings: unknown[] = [];
  const sessionDate = await readSessionDateKind(db);
  const beyond = beyondLanes('s', lanes, sessionDate, bindings);
  const inWindow = window === null ? inAnyPass('s') : inReadWindow('s', window, bindings);
  const placed = `(${hasSessionKey('s')})`;
  const [row] = await db.rows<Record<string, unknown>>(
    `SELECT count(*) FILTER (WHERE ${placed}) AS placed,
            count(*) FILTER (WHERE ${placed} AND (${beyond})) AS beyond,
            count(*) FILTER (WHERE NOT ${placed}) AS key_null
       FROM ${TABLES.sessions} s WHERE ${inWindow}`,
    bindings,
  );
  return {
    placed: toCount(row?.placed),
    beyond: toCount(row?.beyond),
    keyNull: toCount(row?.key_null),
  };
}

/** What the check after a pass found. */
export interface PassCheck {
  census: PassCensus;
  /** Sessions the pass's pages read. */
  read: number;
  /** Set when sessions of the window were not read: the run must not report completed. */
  shortfall: PassShortfall | null;
}

/** Checks a pass that has read its last page of every lane against the table. */
export async function checkPass(
  db: SqlRunner,
  pass: ReadPass & { split: LaneSplit },
  counts: BackfillCounts,
): Promise<PassCheck> {
  const census = await censusOfPass(db, pass, pass.split.lanes);
  const read = counts.sessionsProcessed - pass.processedBefore;
  // A dry run's pass is every session as each page found it: one the app inserted behind the
  // cursor meanwhile was not there to read, which is no shortfall of the run.
  const missed = census.beyond > 0 || (pass.captured && census.placed > read);
  const shortfall = missed
    ? { pass: pass.number, expected: census.placed, read, beyondLastPage: census.beyond }
    : null;
  return { census, read, shortfall };
}

/** The counts of sessions that have a NULL in their key: read as skipped, never as pages. */
export function keyNullCounts(sessions: number): BackfillCounts {
  if (sessions === 0) return emptyCounts();
  return {
    ...emptyCounts(),
    sessionsProcessed: sessions,
    sessionsSkippedByReason: { session_key_null: sessions },
  };
}

/**
 * Checks all the passes of a run at once, after the last: every session but those written
 * since the last claim must have been read by some pass. Null when none is missing.
 */
export async function shortfallOfRun(
  db: SqlRunner,
  counts: BackfillCounts,
): Promise<PassShortfall | null> {
  const census = await censusOfPass(db, null, []);
  return shortfallOfPlaced(census.placed, counts);
}

/**
 * The run's shortfall when `placed` sessions with a key are visible in its last snapshot (see
 * {@link shortfallOfRun}); null when the run read them all.
 */
export function shortfallOfPlaced(placed: number, counts: BackfillCounts): PassShortfall | null {
  const read = counts.sessionsProcessed - (counts.sessionsSkippedByReason.session_key_null ?? 0);
  if (placed <= read) return null;
  return { pass: 'all', expected: placed, read, beyondLastPage: 0 };
}

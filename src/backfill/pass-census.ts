import { toCount } from '../db/query-rows';
import type { PassShortfall } from '../errors/backfill-unverified-error';
import type { SqlRunner } from '../db/sql-runner';
import { TABLES } from '../schema/tables';
import { type BackfillCounts, emptyCounts } from '../bookkeeping/backfill-counts';
import {
  inReadWindow,
  type ReadPass,
  type ReadWindow,
  XID_SPACE,
} from '../bookkeeping/read-window';
import { inPatientRange, type PatientLane } from '../bookkeeping/patient-lane';
import { hasSessionKey, keyAfter, keyBindings, type SessionKey } from '../bookkeeping/session-key';

/**
 * The current snapshot with the subtransactions of its running transactions added to its
 * in-progress list. `pg_current_snapshot()` lists top-level xids only, so a row written in a
 * savepoint of a transaction still running would be taken as visible to it. Each running
 * subtransaction holds a lock on its own xid until its transaction ends, so `pg_locks`, read in
 * the same statement, names them. Its xids are widened to xid8 like rows' xmin.
 */
const SNAPSHOT_WITH_SUBTRANSACTIONS = `
  WITH cur AS (
    SELECT s, CAST(CAST(pg_snapshot_xmin(s) AS text) AS bigint) AS lo,
           CAST(CAST(pg_snapshot_xmax(s) AS text) AS bigint) AS hi
      FROM (SELECT pg_current_snapshot() AS s) AS now
  ),
  running AS (
    SELECT CAST(CAST(x AS text) AS bigint) AS xid FROM cur, pg_snapshot_xip(cur.s) AS x
    UNION
    SELECT (cur.hi / ${XID_SPACE} - CASE WHEN l.raw > cur.hi % ${XID_SPACE} THEN 1 ELSE 0 END)
             * ${XID_SPACE} + l.raw
      FROM cur, (SELECT CAST(CAST(transactionid AS text) AS bigint) AS raw FROM pg_locks
                  WHERE locktype = 'transactionid' AND transactionid IS NOT NULL) AS l
  )
  SELECT cur.lo || ':' || cur.hi || ':' || coalesce(
           (SELECT string_agg(CAST(xid AS text), ',' ORDER BY xid) FROM running
             WHERE xid >= cur.lo AND xid < cur.hi), '') AS snapshot
    FROM cur`;

/** The current snapshot (see SNAPSHOT_WITH_SUBTRANSACTIONS). */
export async function snapshotNow(db: SqlRunner): Promise<string> {
  const [row] = await db.rows<{ snapshot: string }>(SNAPSHOT_WITH_SUBTRANSACTIONS);
  if (!row) throw new Error('a snapshot query returned no row');
  return row.snapshot;
}

/**
 * The current snapshot and how many sessions it sees, in one statement, so that the count is
 * the snapshot's. Counting is a scan of the table: only a run's start needs it.
 */
export async function snapshotAndCount(
  db: SqlRunner,
): Promise<{ snapshot: string; totalSessions: number }> {
  const [row] = await db.rows<{ snapshot: string; n: unknown }>(
    `SELECT s.snapshot, (SELECT count(*) FROM ${TABLES.sessions}) AS n
       FROM (${SNAPSHOT_WITH_SUBTRANSACTIONS}) AS s`,
  );
  if (!row) throw new Error('a snapshot query returned no row');
  return { snapshot: row.snapshot, totalSessions: toCount(row.n) };
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
 * What the window of the next pass holds, counted in the same scan as the pass's census, once
 * the next pass's snapshot is taken: when it holds nothing, the next pass is settled without
 * an index scan of the whole table that would find nothing.
 */
export interface NextWindowCensus {
  /** The next pass's snapshot. */
  until: string;
  /** Sessions with a key in the next window. */
  placed: number;
  /** Sessions with a NULL in their key in the next window. */
  keyNull: number;
  /** Sessions with a key visible in the next snapshot, every window so far together. */
  placedUpToUntil: number;
}

/**
 * How far a pass read: up to its last session (null: none), or, when workers read it in lanes,
 * each lane up to its own cursor.
 */
export type ReadExtent = SessionKey | null | readonly PatientLane[];

/** SQL true when the session `alias` lies beyond what a pass read (see {@link ReadExtent}). */
function beyondExtent(alias: string, extent: ReadExtent, bindings: unknown[]): string {
  if (extent === null) return 'true';
  if (!Array.isArray(extent)) {
    bindings.push(...keyBindings(extent as SessionKey));
    return keyAfter(alias);
  }
  const covered = (extent as readonly PatientLane[]).flatMap((lane) => {
    if (lane.cursor === null) return [];
    const range = inPatientRange(alias, lane, bindings);
    bindings.push(...keyBindings(lane.cursor));
    return [`(${range} AND NOT ${keyAfter(alias)})`];
  });
  return covered.length === 0 ? 'true' : `NOT (${covered.join(' OR ')})`;
}

/**
 * Counts the sessions of `window`, against `read`, how far the pass read; with
 * `nextUntil` (a snapshot taken after the pass's own), also those of the window that follows,
 * in the same scan of the table.
 */
export async function censusOfPass(
  db: SqlRunner,
  window: ReadWindow,
  read: ReadExtent,
  nextUntil: string | null = null,
): Promise<PassCensus & { next: NextWindowCensus | null }> {
  const bindings: unknown[] = [];
  const beyond = beyondExtent('s', read, bindings);
  // Each snapshot's visibility test is evaluated once per row (OFFSET 0 keeps the subquery
  // from being folded into every count); the windows are differences of them.
  const visible = (until: string) => inReadWindow('s', { after: null, until }, bindings);
  const columns = [
    `${hasSessionKey('s')} AS placed`,
    `${beyond} AS beyond`,
    `${visible(window.until)} AS vis_until`,
    `${window.after === null ? 'false' : visible(window.after)} AS vis_after`,
  ];
  if (nextUntil !== null) columns.push(`${visible(nextUntil)} AS vis_next`);
  const inPass = 'c.vis_until AND NOT c.vis_after';
  const inNext = 'c.vis_next AND NOT c.vis_until';
  const [row] = await db.rows<Record<string, unknown>>(
    `SELECT count(*) FILTER (WHERE c.placed AND ${inPass}) AS placed,
            count(*) FILTER (WHERE c.placed AND c.beyond AND ${inPass}) AS beyond,
            count(*) FILTER (WHERE NOT c.placed AND ${inPass}) AS key_null${
              nextUntil === null
                ? ''
                : `,
            count(*) FILTER (WHERE c.placed AND ${inNext}) AS next_placed,
            count(*) FILTER (WHERE NOT c.placed AND ${inNext}) AS next_key_null,
            count(*) FILTER (WHERE c.placed AND c.vis_next) AS placed_up_to_next`
            }
       FROM (SELECT ${columns.join(', ')}
               FROM ${TABLES.sessions} s OFFSET 0) AS c`,
    bindings,
  );
  return {
    placed: toCount(row?.placed),
    beyond: toCount(row?.beyond),
    keyNull: toCount(row?.key_null),
    next:
      nextUntil === null
        ? null
        : {
            until: nextUntil,
            placed: toCount(row?.next_placed),
            keyNull: toCount(row?.next_key_null),
            placedUpToUntil: toCount(row?.placed_up_to_next),
          },
  };
}

/** What the check after a pass found. */
export interface PassCheck {
  census: PassCensus;
  /** The next window's census, when the check was given the next snapshot. */
  next: NextWindowCensus | null;
  /** Sessions the pass's pages read. */
  read: number;
  /** Set when sessions of the window were not read: the run must not report completed. */
  shortfall: PassShortfall | null;
}

/** Checks a pass that has read its last page against the table. */
export async function checkPass(
  db: SqlRunner,
  pass: ReadPass,
  extent: ReadExtent,
  counts: BackfillCounts,
  nextUntil: string | null = null,
): Promise<PassCheck> {
  const { next, ...census } = await censusOfPass(db, pass, extent, nextUntil);
  const read = counts.sessionsProcessed - pass.processedBefore;
  const missed = census.beyond > 0 || census.placed > read;
  const shortfall = missed
    ? { pass: pass.number, expected: census.placed, read, beyondLastPage: census.beyond }
    : null;
  return { census, next, read, shortfall };
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
 * Checks all the passes of a run at once, against its last snapshot: a session that became
 * visible to an earlier pass's window only after that pass's check (one written in a released
 * savepoint of a transaction running at its snapshot) is found here. Null when none is missing.
 */
export async function shortfallOfRun(
  db: SqlRunner,
  lastSnapshot: string,
  counts: BackfillCounts,
): Promise<PassShortfall | null> {
  const census = await censusOfPass(db, { after: null, until: lastSnapshot }, null);
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

import type { LaneSplit } from './patient-lane';

/**
 * Which row versions one pass of a run reads, by the transaction that wrote them (`xmin`):
 * those visible in the snapshot `until` and, when `after` is set, not visible in `after`. The
 * first pass reads what existed when the run started (`after` null, `until` its start
 * snapshot); each catch-up pass reads what was written between two later snapshots. So every
 * row version is read by exactly one pass, whatever the cursor had passed when it was written.
 * Snapshots are `pg_snapshot` text (`xmin:xmax:xip,…`), which no session setting changes.
 */
export interface ReadWindow {
  after: string | null;
  until: string;
}

/** 2^32: how many xids one epoch holds, to widen a 32-bit xid to an xid8. */
export const XID_SPACE = '4294967296';

/**
 * SQL true when the row `alias` was written by a transaction visible in the bound snapshot
 * (three placeholders, each the snapshot). `xmin` is a 32-bit xid; it is widened to an xid8 in the epoch of the
 * current snapshot's xmax (one epoch back when it is above that xmax's low half), since no
 * row's xmin is newer than now. The special xids below 3 (bootstrap, frozen) are visible to
 * every snapshot.
 */
function visibleIn(alias: string): string {
  const xmin = `CAST(CAST(${alias}.xmin AS text) AS bigint)`;
  // Uncorrelated, so each is evaluated once per statement (an InitPlan), not once per row.
  const nowXmax = '(SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint))';
  const snapshot = '(SELECT CAST(? AS pg_snapshot))';
  // The snapshot's xmin as a 32-bit xid, and how old it is. `age()` counts back from the same
  // xid for every row of the transaction (its own xid, or the next one when it first asks), so
  // a row whose xmin is older than that xmin (nearly all rows of a first pass) is known visible
  // without widening its xid (frozen rows are the oldest of all); a snapshot taken just now
  // has age 0. The rows a scan returns are committed, and anything committed before a
  // snapshot's xmin is visible in it; every other row takes the exact test, as do all rows when
  // the snapshot is so old (2^31 xids) that its age no longer fits.
  const snapshotXminAge = `(SELECT age(CAST(CAST(CAST(CAST(pg_snapshot_xmin(CAST(? AS pg_snapshot)) AS text) AS bigint) % ${XID_SPACE} AS text) AS xid)))`;
  const epoch = `(${nowXmax} / ${XID_SPACE} - CASE WHEN ${xmin} > ${nowXmax} % ${XID_SPACE} THEN 1 ELSE 0 END)`;
  return `((${snapshotXminAge} >= 0 AND age(${alias}.xmin) > ${snapshotXminAge}) OR ${xmin} < 3 OR ${epoch} < 0
       OR pg_visible_in_snapshot(CAST(CAST(${epoch} * ${XID_SPACE} + ${xmin} AS text) AS xid8), ${snapshot}))`;
}

/** SQL true when the row `alias` belongs to `window`; pushes its bindings. */
export function inReadWindow(alias: string, window: ReadWindow, bindings: unknown[]): string {
  bindings.push(window.until, window.until, window.until);
  if (window.after === null) return visibleIn(alias);
  bindings.push(window.after, window.after, window.after);
  return `${visibleIn(alias)} AND NOT ${visibleIn(alias)}`;
}

/** One pass of a run: its window, and where the run's counts stood when it began. */
export interface ReadPass extends ReadWindow {
  /** 0 for the pass over what existed at the start; 1, 2, … for the catch-up passes. */
  number: number;
  /** `sessionsProcessed` when the pass began, so that the pass's own reads can be checked. */
  processedBefore: number;
  /** Set when parallel workers read the pass: its patients split into lanes. */
  split?: LaneSplit;
}

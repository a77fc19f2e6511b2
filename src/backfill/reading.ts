import type { SqlRunner } from '../db/connection';
import { TABLES } from '../names';
import { SESSION_CHANGES } from '../schema/change-tracking';
import { addCounts, type BackfillCounts } from './rules';

/**
 * A position in the backfill's reading order: (patient_id, session_date, id). Reading each
 * patient's sessions oldest first lets the dedup check keep the earliest occurrence of a goal.
 * `sessionDate` is the exact text {@link sessionDateText} produces, so no precision is lost in
 * JavaScript and no session setting changes what it means.
 */
export interface SessionKey {
  patientId: string;
  sessionDate: string;
  sessionId: string;
}

/**
 * How the app's `therapy_sessions.session_date` holds a date: `instant` for `timestamptz`,
 * `wall_clock` for `timestamp without time zone` (what a clock on the wall read, in no zone).
 * The cursor is compared with the column in the column's own type, so neither kind depends on
 * the session's `TimeZone`, which the backfill leaves as the app has it.
 */
export type DateKind = 'instant' | 'wall_clock';

/** The SQL type of a session date of `kind`. */
export function sessionDateType(kind: DateKind): 'timestamptz' | 'timestamp' {
  return kind === 'wall_clock' ? 'timestamp' : 'timestamptz';
}

/**
 * SQL true when a column is a `timestamp without time zone`, false when it is of another type,
 * NULL when there is no such column: two placeholders, the table and the column.
 */
export const IS_WALL_CLOCK_COLUMN = `(SELECT atttypid = 'timestamp'::regtype FROM pg_attribute
    WHERE attrelid = to_regclass(?) AND attname = ? AND NOT attisdropped)`;

/** Reads from the catalog which {@link DateKind} `therapy_sessions.session_date` is. */
export async function readSessionDateKind(db: SqlRunner): Promise<DateKind> {
  const [row] = await db.rows<{ wall_clock: boolean | null }>(
    `SELECT ${IS_WALL_CLOCK_COLUMN} AS wall_clock`,
    [TABLES.sessions, 'session_date'],
  );
  return row?.wall_clock === true ? 'wall_clock' : 'instant';
}

/**
 * SQL giving the exact text of the session date `expression` of `kind`: ISO 8601 with six
 * fractional digits and a `Z` (and ` BC` before year 1), or `infinity` / `-infinity`. An
 * instant is written in UTC; a wall clock as it reads (its `Z` is ignored when the text is read
 * back as a wall clock). Neither DateStyle nor TimeZone changes it, and `CAST(text AS <the
 * column's type>)` reads it back to the same value under any settings, unlike PostgreSQL's own
 * text (`IST` is read back as Israel time). Both kinds give the text earlier versions saved
 * under their pinned UTC, so a saved cursor reads back the same.
 */
export function sessionDateText(expression: string, kind: DateKind): string {
  const clock = kind === 'wall_clock' ? expression : `(${expression} AT TIME ZONE 'UTC')`;
  const iso = `to_char(${clock}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  return `CASE WHEN NOT isfinite(${expression}) THEN CAST(${expression} AS text)
    WHEN to_char(${clock}, 'BC') = 'BC' THEN ${iso} || ' BC'
    ELSE ${iso} END`;
}

/** SQL true when the session `alias` has a place in the reading order (no NULL in its key). */
export function hasSessionKey(alias: string): string {
  return `${alias}.patient_id IS NOT NULL AND ${alias}.session_date IS NOT NULL`;
}

/**
 * SQL comparing the session `alias` with a bound key, the date in the column's own type (see
 * {@link DateKind}): three placeholders, in key order.
 */
export function keyAfter(alias: string, kind: DateKind): string {
  return `(${alias}.patient_id, ${alias}.session_date, ${alias}.id) > (CAST(? AS uuid), CAST(? AS ${sessionDateType(kind)}), CAST(? AS uuid))`;
}

/** The bindings of {@link keyAfter}. */
export function keyBindings(key: SessionKey): string[] {
  return [key.patientId, key.sessionDate, key.sessionId];
}

/**
 * Which sessions one pass of a run reads, by the change records the capture trigger keeps
 * (src/schema/change-tracking.ts), never by transaction ids:
 * - pass 0 reads the sessions with no change record: those that existed when the run started
 *   and were not written since;
 * - pass k (1, 2, …) reads the sessions whose records pass k claimed when it began (those
 *   committed by then) and that have no record claimed later or not yet claimed, so a session
 *   written again after a claim is read by the next pass, in its newest version.
 * So each write the app commits before the last pass begins is read by exactly one pass,
 * whatever the cursor had passed when it was written.
 *
 * A dry run records nothing: its one pass reads every session as each page finds it.
 */
export interface ReadWindow {
  /** 0 for the pass over what existed at the start; 1, 2, … for the catch-up passes. */
  number: number;
  /** True for a real run, whose passes are defined by change records; false for a dry run. */
  captured: boolean;
}

/** SQL true when the session `alias` belongs to `window`; pushes its bindings. */
export function inReadWindow(alias: string, window: ReadWindow, bindings: unknown[]): string {
  if (!window.captured) return 'true';
  const changes = SESSION_CHANGES.table;
  if (window.number === 0) {
    return `NOT EXISTS (SELECT 1 FROM ${changes} c WHERE c.session_id = ${alias}.id)`;
  }
  bindings.push(window.number, window.number);
  return `${alias}.id IN (SELECT c.session_id FROM ${changes} c WHERE c.pass = ?)
    AND NOT EXISTS (SELECT 1 FROM ${changes} c
                     WHERE c.session_id = ${alias}.id AND (c.pass IS NULL OR c.pass > ?))`;
}

/**
 * SQL true when the session `alias` belongs to one of the passes up to now: every session but
 * those written after the last claim. The check of a whole run counts these.
 */
export function inAnyPass(alias: string): string {
  return `NOT EXISTS (SELECT 1 FROM ${SESSION_CHANGES.table} c
                       WHERE c.session_id = ${alias}.id AND c.pass IS NULL)`;
}

/**
 * Claims for pass `number` the change records committed so far and not claimed yet. Call it in
 * the transaction that saves the pass, so the claim and the run record commit together.
 * Returns how many records it claimed: none means no session was written since the last claim.
 */
export async function claimChanges(db: SqlRunner, number: number): Promise<number> {
  const [row] = await db.rows<{ n: string | number }>(
    `WITH claimed AS (
       UPDATE ${SESSION_CHANGES.table} SET pass = ? WHERE pass IS NULL RETURNING 1
     ) SELECT count(*) AS n FROM claimed`,
    [number],
  );
  return Number(row?.n ?? 0);
}

/** One pass of a run: its window, and where the run's counts stood when it began. */
export interface ReadPass extends ReadWindow {
  /** `sessionsProcessed` when the pass began, so that the pass's own reads can be checked. */
  processedBefore: number;
  /** Set when parallel workers read the pass: its patients split into lanes. */
  split?: LaneSplit;
}

/**
 * Whether a saved pass was made by this version: earlier versions bounded passes by snapshots
 * of transaction ids (`after`, `until`), which a resume cannot trust.
 */
export function isCapturedPass(pass: unknown): pass is ReadPass {
  return (
    typeof pass === 'object' &&
    pass !== null &&
    (pass as { captured?: unknown }).captured === true &&
    typeof (pass as { number?: unknown }).number === 'number'
  );
}

/**
 * A contiguous range of patients, `from` inclusive to `to` exclusive (null: unbounded). Every
 * session of a patient falls in one range, so each (patient_id, description) pair belongs to
 * exactly one range and dedup within a range is dedup over the whole table.
 */
export interface PatientRange {
  from: string | null;
  to: string | null;
}

/**
 * One share of a pass that parallel workers read: its patients, and where its reading stands.
 * Saved in the run's `read_pass` with every page of it, so that a killed run resumes each lane
 * where it stopped.
 */
export interface PatientLane extends PatientRange {
  /** The last session read in this lane, or null when none yet. */
  cursor: SessionKey | null;
  /** What this lane's pages counted. */
  counts: BackfillCounts;
  /** True once a page came back short: the lane has nothing more to read. */
  done: boolean;
}

/** A pass split among workers: what the run had counted before it, and its lanes. */
export interface LaneSplit {
  countsBefore: BackfillCounts;
  lanes: PatientLane[];
}

/** SQL true when the session `alias` belongs to `range`; pushes its bindings. */
export function inPatientRange(alias: string, range: PatientRange, bindings: unknown[]): string {
  const conditions: string[] = [];
  if (range.from !== null) {
    conditions.push(`${alias}.patient_id >= CAST(? AS uuid)`);
    bindings.push(range.from);
  }
  if (range.to !== null) {
    conditions.push(`${alias}.patient_id < CAST(? AS uuid)`);
    bindings.push(range.to);
  }
  return conditions.length === 0 ? 'true' : conditions.join(' AND ');
}

/**
 * Splits the patients into ranges at `boundaries` (sorted patient ids; each starts a range),
 * one lane per range, none read yet.
 */
export function lanesAt(boundaries: readonly string[], emptyCounts: () => BackfillCounts) {
  const starts: (string | null)[] = [null, ...boundaries];
  return starts.map(
    (from, i): PatientLane => ({
      from,
      to: starts[i + 1] ?? null,
      cursor: null,
      counts: emptyCounts(),
      done: false,
    }),
  );
}

/**
 * Whether a pass reads as split among workers in the run's events: more than one worker may
 * read it, or it has more than one lane (a run split by workers and resumed with one). A pass
 * one worker reads as one lane logs as a pass without lanes.
 */
export function readsAsSplit(split: LaneSplit, workers: number): boolean {
  return workers > 1 || split.lanes.length > 1;
}

/** The run's counts so far in a split pass: what it had counted before, plus every lane's. */
export function countsOfSplit(split: LaneSplit): BackfillCounts {
  return split.lanes.reduce((sum, lane) => addCounts(sum, lane.counts), split.countsBefore);
}

/**
 * The patients at which to split the sessions into `lanes` shares of about equal size, in
 * reading order: for each share after the first, the patient of the session at its start
 * (found in the reading index, so no table scan). A patient is never split, so one with very
 * many sessions makes its share bigger; equal boundaries collapse, so there may be fewer
 * shares than asked for. `sessions` is about how many sessions the table holds.
 */
export async function laneBoundaries(
  db: SqlRunner,
  lanes: number,
  sessions: number,
): Promise<string[]> {
  const boundaries: string[] = [];
  for (let share = 1; share < lanes; share += 1) {
    const [row] = await db.rows<{ patient_id: string }>(
      `SELECT s.patient_id FROM ${TABLES.sessions} s WHERE ${hasSessionKey('s')}
        ORDER BY ${READ_ORDER} OFFSET ? LIMIT 1`,
      [Math.floor((share * sessions) / lanes)],
    );
    if (row && row.patient_id !== boundaries.at(-1)) boundaries.push(row.patient_id);
  }
  return boundaries;
}

/**
 * Which sessions one page reads: the next `limit` sessions of `window` (and of `lane`) after
 * `cursor` in reading order. Sessions with a NULL in their key have no place in that order and
 * are left out.
 */
export interface PageSelection {
  /** The lane's cursor (its last-read key): the page starts after it, or at the start when null. */
  cursor: SessionKey | null;
  limit: number;
  /** Which sessions the pass reads. */
  window: ReadWindow;
  /** The patients of a lane; null for every patient. */
  lane: PatientRange | null;
  /** What kind of date the app's session_date is, read from the catalog for each page. */
  sessionDate: DateKind;
}

/** The reading order: each patient's sessions oldest first (see {@link SessionKey}). */
export const READ_ORDER = 's.patient_id, s.session_date, s.id';

/**
 * THE page's selection, built once: SQL selecting `columns` of the sessions `page` reads (alias
 * `s`), in reading order; pushes its bindings. The page's goal statement and its
 * session-by-session fallback both read it, so the fallback reads exactly the sessions the
 * page read.
 */
export function selectPage(columns: string, page: PageSelection, bindings: unknown[]): string {
  const conditions = [hasSessionKey('s'), inReadWindow('s', page.window, bindings)];
  if (page.lane !== null) conditions.push(inPatientRange('s', page.lane, bindings));
  if (page.cursor !== null) {
    conditions.push(keyAfter('s', page.sessionDate));
    bindings.push(...keyBindings(page.cursor));
  }
  bindings.push(page.limit);
  return `SELECT ${columns} FROM ${TABLES.sessions} s
    WHERE ${conditions.join(' AND ')} ORDER BY ${READ_ORDER} LIMIT ?`;
}

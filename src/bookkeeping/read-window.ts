import type { SqlRunner } from '../db/connection';
import { SESSION_CHANGES } from '../schema/session-change-capture';
import type { LaneSplit } from './patient-lane';

/**
 * Which sessions one pass of a run reads, by the change records the capture trigger keeps
 * (src/schema/session-change-capture.ts), never by transaction ids:
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

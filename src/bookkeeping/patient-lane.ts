import { addCounts, type BackfillCounts } from './backfill-counts';
import type { SessionKey } from './session-key';

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

/** The run's counts so far in a split pass: what it had counted before, plus every lane's. */
export function countsOfSplit(split: LaneSplit): BackfillCounts {
  return split.lanes.reduce((sum, lane) => addCounts(sum, lane.counts), split.countsBefore);
}

import {
  BACKFILL_ORIGIN,
  BACKFILLED_GOAL_STATUS,
  CLINICIAN_ORIGIN,
  SEED_ORIGIN,
} from '../schema/goal-vocabulary';
import {
  CLINICAL_COLUMNS,
  fingerprintSql,
  GOAL_CHANGE_TRACKING,
} from '../schema/goal-change-tracking';
import type { GoalTableMapping } from '../schema/goal-table';

/** The clinical columns as the fingerprint takes them: text as text, a column the table lacks as NULL. */
function clinicalColumnsOf(table: GoalTableMapping): string[] {
  return CLINICAL_COLUMNS.map((column) => {
    if (column !== 'description' && !table.has[column]) return 'NULL';
    return column === 'therapist_id' || column === 'session_id'
      ? column
      : `CAST(${column} AS text)`;
  });
}

/**
 * What makes a backfilled goal unchanged, defined once: it is still 'assigned', `updated_at` is
 * still the moment of the backfill, no UPDATE has touched the row since (the trigger stamps
 * `clinician_touched_at`), and its clinical columns still match the fingerprint the backfill
 * stored. Any one of them failing (or NULL) makes the goal changed. A table without `status` or
 * `updated_at` (an app's) is judged by the rest.
 */
function unchangedSinceBackfill(table: GoalTableMapping): string {
  return [
    ...(table.has.status ? [`status = '${BACKFILLED_GOAL_STATUS}'`] : []),
    ...(table.has.updated_at ? ['updated_at = backfilled_at'] : []),
    `${GOAL_CHANGE_TRACKING.touchedColumn} IS NULL`,
    `${GOAL_CHANGE_TRACKING.fingerprintColumn} = ${fingerprintSql(clinicalColumnsOf(table))}`,
  ].join(' AND ');
}

/** SQL conditions on treatment_goals (no alias) that sort goals by where they came from. */
export interface GoalProvenanceSql {
  /** Written by the backfill and untouched since: the goals a rollback deletes. */
  unchangedBackfill: string;
  /** Written by the backfill, then changed: kept unless asked otherwise. */
  changedBackfill: string;
  /**
   * Entered by clinicians: never deleted by this package. The app leaves `origin` NULL (a table
   * that goal-backfill 0.1.0 created defaults it to 'clinician').
   */
  clinician: string;
  /** Demo goals the seeds wrote into a local database: not clinical data. */
  seed: string;
  /** Every backfilled goal, changed or not. */
  anyBackfill: string;
}

/**
 * The provenance conditions for `table`. A backfilled goal stops counting as unchanged once
 * anything changes it: an UPDATE of the row, whatever it sets `updated_at` to, or a clinical
 * column that no longer matches what the backfill wrote (see docs/backfill-rules.md). The
 * rollback, `status` and `rollback --dry-run` all count and delete by these conditions.
 */
export function goalProvenanceSql(table: GoalTableMapping): GoalProvenanceSql {
  const unchanged = unchangedSinceBackfill(table);
  return {
    unchangedBackfill: `origin = '${BACKFILL_ORIGIN}' AND ${unchanged}`,
    changedBackfill: `origin = '${BACKFILL_ORIGIN}' AND (${unchanged}) IS NOT TRUE`,
    clinician: `coalesce(origin, '${CLINICIAN_ORIGIN}') = '${CLINICIAN_ORIGIN}'`,
    seed: `origin = '${SEED_ORIGIN}'`,
    anyBackfill: `origin = '${BACKFILL_ORIGIN}'`,
  };
}

import {
  clinicalColumnsOf,
  fingerprintSql,
  GOAL_CHANGE_TRACKING,
} from '../schema/goal-change-tracking';
import type { GoalTableMapping } from '../schema/goal-table';
import { BACKFILL_ORIGIN, CLINICIAN_ORIGIN, SEED_ORIGIN } from '../schema/goal-vocabulary';

/**
 * What makes a backfilled goal unchanged, defined once: `updated_at` is still what it was when
 * the goal was stored (`backfilled_at`), no UPDATE has touched the row since (the trigger stamps
 * `clinician_touched_at`), and its clinical columns, `status` among them, still match the
 * fingerprint of the row as stored. Both baselines come from the stored row, after the app's own
 * insert-time triggers, so those never count as a change. Any one of them failing (or NULL)
 * makes the goal changed. A table without `updated_at` (an app's) is judged by the rest.
 */
function unchangedSinceBackfill(table: GoalTableMapping): string {
  return [
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

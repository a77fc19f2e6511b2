import { BACKFILL_ORIGIN, CLINICIAN_ORIGIN, SEED_ORIGIN } from '../schema/goal-vocabulary';
import { fingerprintSql, GOAL_CHANGE_TRACKING } from '../schema/goal-change-tracking';

/**
 * What makes a backfilled goal unchanged, defined once: `updated_at` is still what it was when
 * the goal was stored (`backfilled_at`), no UPDATE has touched the row since (the trigger stamps
 * `clinician_touched_at`), and its clinical columns, `status` among them, still match the
 * fingerprint of the row as stored. Both baselines come from the stored row, after the app's own
 * insert-time triggers, so those never count as a change. Any one of them failing (or NULL)
 * makes the goal changed.
 */
const UNCHANGED_SINCE_BACKFILL =
  'updated_at = backfilled_at' +
  ` AND ${GOAL_CHANGE_TRACKING.touchedColumn} IS NULL` +
  ` AND ${GOAL_CHANGE_TRACKING.fingerprintColumn} = ${fingerprintSql()}`;

/**
 * SQL conditions on treatment_goals (no alias) that sort goals by where they came from. A
 * backfilled goal stops counting as unchanged once anything changes it: an UPDATE of the row,
 * whatever it sets `updated_at` to, or a clinical column that no longer matches what the
 * backfill wrote (see docs/backfill-rules.md). The rollback, `status` and `rollback --dry-run`
 * all count and delete by these conditions.
 */
export const GOAL_PROVENANCE_SQL = {
  /** Written by the backfill and untouched since: the goals a rollback deletes. */
  unchangedBackfill: `origin = '${BACKFILL_ORIGIN}' AND ${UNCHANGED_SINCE_BACKFILL}`,
  /** Written by the backfill, then changed: kept unless asked otherwise. */
  changedBackfill: `origin = '${BACKFILL_ORIGIN}' AND (${UNCHANGED_SINCE_BACKFILL}) IS NOT TRUE`,
  /** Entered by clinicians: never deleted by this package. */
  clinician: `origin = '${CLINICIAN_ORIGIN}'`,
  /** Demo goals the seeds wrote into a local database: not clinical data. */
  seed: `origin = '${SEED_ORIGIN}'`,
  /** Every backfilled goal, changed or not. */
  anyBackfill: `origin = '${BACKFILL_ORIGIN}'`,
} as const;

import {
  BACKFILL_ORIGIN,
  BACKFILLED_GOAL_STATUS,
  CLINICIAN_ORIGIN,
  SEED_ORIGIN,
} from '../backfill/goal-rules';

/**
 * SQL conditions on treatment_goals (no alias) that sort goals by where they came from. A
 * backfilled goal stops counting as backfilled once a clinician changes it: its status leaves
 * 'assigned' or its updated_at moves away from the moment the backfill wrote it.
 */
export const GOAL_PROVENANCE_SQL = {
  /** Written by the backfill and untouched since: the goals a rollback deletes. */
  unchangedBackfill: `origin = '${BACKFILL_ORIGIN}' AND status = '${BACKFILLED_GOAL_STATUS}' AND updated_at = backfilled_at`,
  /** Written by the backfill, then changed by a clinician: kept unless asked otherwise. */
  changedBackfill: `origin = '${BACKFILL_ORIGIN}' AND NOT (status = '${BACKFILLED_GOAL_STATUS}' AND updated_at IS NOT DISTINCT FROM backfilled_at)`,
  /** Entered by clinicians: never deleted by this package. */
  clinician: `origin = '${CLINICIAN_ORIGIN}'`,
  /** Demo goals the seeds wrote into a local database: not clinical data. */
  seed: `origin = '${SEED_ORIGIN}'`,
  /** Every backfilled goal, changed or not. */
  anyBackfill: `origin = '${BACKFILL_ORIGIN}'`,
} as const;

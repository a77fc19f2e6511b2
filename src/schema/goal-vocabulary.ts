export type { GoalOrigin } from '../names';
export {
  BACKFILL_ORIGIN,
  BACKFILLED_GOAL_STATUS,
  CLINICIAN_ORIGIN,
  GOAL_ORIGINS,
  GOAL_STATUSES,
  SEED_ORIGIN,
} from '../names';

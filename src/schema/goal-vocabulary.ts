/** The goal vocabulary the schema's checks enforce, owned here so every layer above can use it. */

/** The status every backfilled goal starts in. */
export const BACKFILLED_GOAL_STATUS = 'assigned';

/** The `origin` of goals the backfill creates. */
export const BACKFILL_ORIGIN = 'backfill';
/**
 * The `origin` of goals clinicians entered: clinical data, never deleted. The app leaves `origin`
 * NULL, which counts as this; a treatment_goals goal-backfill 0.1.0 created defaults it to this.
 */
export const CLINICIAN_ORIGIN = 'clinician';
/** The `origin` of the demo goals the seeds create in a local database: not clinical data. */
export const SEED_ORIGIN = 'seed';
/** Every `origin` a goal can have. */
export const GOAL_ORIGINS = [CLINICIAN_ORIGIN, BACKFILL_ORIGIN, SEED_ORIGIN] as const;
export type GoalOrigin = (typeof GOAL_ORIGINS)[number];

/** The goal statuses the app allows. */
export const GOAL_STATUSES = ['assigned', 'in_progress', 'completed', 'abandoned'] as const;

import { GoalBackfillError } from './goal-backfill-error';

/** Dropping treatment_goals would destroy goals that the backfill did not create. */
export class TeardownRefusedError extends GoalBackfillError {
  readonly code = 'TEARDOWN_REFUSED';

  constructor(
    readonly clinicianGoals: number,
    readonly changedBackfilledGoals: number,
    readonly overrideVariable: string,
  ) {
    super(
      `refusing to drop treatment_goals: it holds ${clinicianGoals} clinician-entered goal(s) and ` +
        `${changedBackfilledGoals} backfilled goal(s) that clinicians changed. Export or keep them; ` +
        `to destroy them deliberately, rerun with ${overrideVariable}=1`,
    );
  }
}

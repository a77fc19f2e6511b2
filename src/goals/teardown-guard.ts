import type { Knex } from 'knex';
import { sqlRunner } from '../db/sql-runner';
import { TeardownRefusedError } from '../errors/teardown-refused-error';
import type { Logger } from '../logging/logger';
import { takeGoalCensus } from './goal-census';

/** The variable that allows dropping treatment_goals while it holds goals the backfill did not create. */
export const TEARDOWN_OVERRIDE_VARIABLE = 'GOAL_BACKFILL_ALLOW_TEARDOWN';

/**
 * Throws {@link TeardownRefusedError} when dropping treatment_goals would destroy clinician
 * goals or changed backfilled goals, unless `allow` is set; then it logs what will be lost.
 */
export async function assertTeardownAllowed(
  knex: Knex,
  options: { allow: boolean; logger: Logger },
): Promise<void> {
  const census = await takeGoalCensus(sqlRunner(knex));
  const precious = census.clinician + census.changedBackfill;
  if (precious === 0) return;
  if (!options.allow) {
    throw new TeardownRefusedError(
      census.clinician,
      census.changedBackfill,
      TEARDOWN_OVERRIDE_VARIABLE,
    );
  }
  options.logger.warn('teardown.override', {
    clinicianGoals: census.clinician,
    changedBackfilledGoals: census.changedBackfill,
    variable: TEARDOWN_OVERRIDE_VARIABLE,
  });
}

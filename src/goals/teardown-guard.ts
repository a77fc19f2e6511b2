import type { Knex } from 'knex';
import { sqlRunner } from '../db/sql-runner';
import { TeardownRefusedError } from '../errors/teardown-refused-error';
import type { Logger } from '../logging/logger';
import { dropGoalSchema } from '../schema/goal-schema';
import { relationOwnership } from '../schema/ownership';
import { TABLES } from '../schema/tables';
import { type GoalCensus, takeGoalCensus } from './goal-census';

/** The variable that allows dropping treatment_goals while it holds goals the backfill did not create. */
export const TEARDOWN_OVERRIDE_VARIABLE = 'GOAL_BACKFILL_ALLOW_TEARDOWN';

/** Goals a teardown must not destroy silently: clinicians entered or changed them. */
function clinicalGoals(census: GoalCensus): number {
  return census.clinician + census.changedBackfill;
}

/**
 * Throws {@link TeardownRefusedError} when dropping treatment_goals would destroy clinician
 * goals or changed backfilled goals, unless `allow` is set; then it logs what will be lost.
 * Demo goals from the seeds are not clinical data and never block it.
 */
export async function assertTeardownAllowed(
  knex: Knex,
  options: { allow: boolean; logger: Logger },
): Promise<void> {
  const census = await takeGoalCensus(sqlRunner(knex));
  if (clinicalGoals(census) === 0) return;
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

/** What {@link teardownGoalSchema} did. */
export type GoalSchemaTeardown =
  | { outcome: 'dropped' | 'absent' | 'not_ours' }
  | { outcome: 'kept'; clinicianGoals: number; changedBackfilledGoals: number };

/**
 * The `down` of the schema migration. Drops treatment_goals and the backfill's bookkeeping when
 * they hold no clinical goals (or `allow` says the loss is deliberate). Otherwise it keeps the
 * whole schema, changes nothing, and logs one line saying what it kept, why, and how to go on:
 * Knex then records the migration as rolled back, and `migrate:latest` adopts the kept schema
 * and backfills again. It never throws for clinical goals, so a rollback never stops half way.
 */
export async function teardownGoalSchema(
  knex: Knex,
  options: { allow: boolean; logger: Logger },
): Promise<GoalSchemaTeardown> {
  const ownership = await relationOwnership(sqlRunner(knex), TABLES.goals);
  if (ownership === 'theirs') {
    options.logger.warn('rollback.foreign_treatment_goals', {
      why: 'treatment_goals was not created by goal-backfill; it was left as it is',
    });
    return { outcome: 'not_ours' };
  }
  if (ownership === 'missing') {
    await dropGoalSchema(knex);
    return { outcome: 'absent' };
  }
  const census = await takeGoalCensus(sqlRunner(knex));
  if (clinicalGoals(census) > 0 && !options.allow) {
    const kept = {
      outcome: 'kept',
      clinicianGoals: census.clinician,
      changedBackfilledGoals: census.changedBackfill,
    } as const;
    options.logger.warn('rollback.kept_treatment_goals', {
      clinicianGoals: kept.clinicianGoals,
      changedBackfilledGoals: kept.changedBackfilledGoals,
      why: 'clinicians entered or changed these goals; dropping the table would destroy them',
      next: `nothing else was changed; npx knex migrate:latest restores the chain; to drop the table anyway set ${TEARDOWN_OVERRIDE_VARIABLE}=1`,
    });
    return kept;
  }
  await assertTeardownAllowed(knex, options);
  await dropGoalSchema(knex);
  return { outcome: 'dropped' };
}

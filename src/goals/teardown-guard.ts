import type { Knex } from 'knex';
import { sqlRunner } from '../db/sql-runner';
import { TeardownRefusedError } from '../errors/teardown-refused-error';
import type { Logger } from '../logging/logger';
import { dropGoalSchema } from '../schema/goal-schema';
import { readGoalTableFacts } from '../schema/goal-table';
import type { DdlSettings } from '../schema/lock-safe-ddl';
import { relationOwnership } from '../schema/lock-safe-ddl';
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
  options: Pick<TeardownOptions, 'allow' | 'logger'>,
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

/**
 * What {@link teardownGoalSchema} did.
 * - `dropped`: treatment_goals, which this package created, is gone with the bookkeeping;
 * - `released`: treatment_goals is the app's; what this package added to it is gone, the table
 *   and the app's goals stay;
 * - `absent`: there was no treatment_goals; the rest is gone;
 * - `kept`: nothing was changed, because clinicians entered or changed goals (a table this
 *   package created) or backfilled goals nobody changed are still in the app's table.
 */
export type GoalSchemaTeardown =
  | { outcome: 'dropped' | 'released' | 'absent' }
  | { outcome: 'kept'; clinicianGoals: number; changedBackfilledGoals: number }
  | { outcome: 'kept'; unchangedBackfilledGoals: number };

/** Options of {@link teardownGoalSchema}. */
export interface TeardownOptions {
  /** Drop a treatment_goals this package created even while it holds clinical goals. */
  allow: boolean;
  logger: Logger;
  /** `lock_timeout` and `statement_timeout` of the changes to the app's tables. */
  settings?: DdlSettings;
}

/**
 * The `down` of the schema migration. Drops treatment_goals and the backfill's bookkeeping when
 * they hold no clinical goals (or `allow` says the loss is deliberate). Otherwise it keeps the
 * whole schema, changes nothing, and logs one line saying what it kept, why, and how to go on:
 * Knex then records the migration as rolled back, and `migrate:latest` adopts the kept schema
 * and backfills again. It never throws for clinical goals, so a rollback never stops half way.
 */
export async function teardownGoalSchema(
  knex: Knex,
  options: TeardownOptions,
): Promise<GoalSchemaTeardown> {
  const ownership = await relationOwnership(sqlRunner(knex), TABLES.goals);
  if (ownership === 'theirs') return releaseAppGoalTable(knex, options);
  if (ownership === 'missing') {
    await dropGoalSchema(knex, options.settings);
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
  await dropGoalSchema(knex, options.settings);
  return { outcome: 'dropped' };
}

/**
 * The teardown of a treatment_goals the app made: the table is never dropped. While backfilled
 * goals that nobody changed are still in it (the backfill's own rollback has not run), it keeps
 * everything and says so, since without the provenance columns they would pass for the app's.
 * Otherwise it removes everything this package added; backfilled goals that clinicians changed
 * stay as the app's goals.
 */
async function releaseAppGoalTable(
  knex: Knex,
  options: TeardownOptions,
): Promise<GoalSchemaTeardown> {
  const facts = await readGoalTableFacts(sqlRunner(knex));
  const adopted = facts?.columns.get('origin')?.marked === true;
  const census = adopted ? await takeGoalCensus(sqlRunner(knex)) : null;
  if (census && census.unchangedBackfill > 0) {
    options.logger.warn('rollback.kept_treatment_goals', {
      unchangedBackfilledGoals: census.unchangedBackfill,
      why: 'backfilled goals are still in the app table; without their provenance they would pass for the app goals',
      next: 'nothing was changed; roll back the backfill (npm run backfill -- rollback), then this migration again',
    });
    return { outcome: 'kept', unchangedBackfilledGoals: census.unchangedBackfill };
  }
  await dropGoalSchema(knex, options.settings);
  options.logger.info('rollback.released_treatment_goals', {
    changedBackfilledGoals: census?.changedBackfill ?? 0,
    why: 'treatment_goals is the app table: what goal-backfill added to it was removed, the table and its goals stay',
  });
  return { outcome: 'released' };
}

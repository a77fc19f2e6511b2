import type { Knex } from 'knex';
import { APP_TIME_ZONE_SQL } from './db/connection';
import { type SqlRunner, sqlRunner, toCount } from './db/sql-runner';
import { TeardownRefusedError } from './errors';
import type { Logger } from './logging';
import { BACKFILL_ORIGIN, CLINICIAN_ORIGIN, GOAL_PROVENANCE, SEED_ORIGIN, TABLES } from './names';
import { clinicalColumnsOf, fingerprintSql, GOAL_CHANGE_TRACKING } from './schema/change-tracking';
import { dropGoalSchema } from './schema/goal-schema';
import {
  type GoalTableMapping,
  goalTableMapping,
  readGoalTableFacts,
  readGoalTableMapping,
} from './schema/goal-table';
import { type DdlSettings, relationOwnership } from './schema/lock-safe-ddl';

/**
 * The goals in treatment_goals by where they came from: the provenance conditions every count
 * and delete uses, the census that counts by them in one scan, and the guard that keeps a
 * teardown of the schema from destroying clinical goals.
 */

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
    ...(table.has.updated_at ? [updatedAtUnchanged(table)] : []),
    `${GOAL_CHANGE_TRACKING.touchedColumn} IS NULL`,
    `${GOAL_CHANGE_TRACKING.fingerprintColumn} = ${fingerprintSql(clinicalColumnsOf(table))}`,
  ].join(' AND ');
}

/**
 * SQL true when `updated_at` is still `backfilled_at`. A wall clock (`timestamp without time
 * zone`) holds the app's wall clock at that instant, so the instant is read in the app's zone
 * (`AT TIME ZONE` from an instant to a wall clock has one answer, daylight saving or not). It
 * also holds as UTC's wall clock: earlier versions wrote that, their connection pinned to UTC.
 * A goal backfilled before the app's zone changed reads as changed, and is kept.
 */
function updatedAtUnchanged(table: GoalTableMapping): string {
  const { backfilledAt } = GOAL_PROVENANCE;
  if (!table.updatedAtIsWallClock) return `updated_at = ${backfilledAt}`;
  return `(updated_at = (${backfilledAt} AT TIME ZONE ${APP_TIME_ZONE_SQL})
          OR updated_at = (${backfilledAt} AT TIME ZONE 'UTC'))`;
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
  const { origin } = GOAL_PROVENANCE;
  return {
    unchangedBackfill: `${origin} = '${BACKFILL_ORIGIN}' AND ${unchanged}`,
    changedBackfill: `${origin} = '${BACKFILL_ORIGIN}' AND (${unchanged}) IS NOT TRUE`,
    clinician: `coalesce(${origin}, '${CLINICIAN_ORIGIN}') = '${CLINICIAN_ORIGIN}'`,
    seed: `${origin} = '${SEED_ORIGIN}'`,
    anyBackfill: `${origin} = '${BACKFILL_ORIGIN}'`,
  };
}

/** How many goals there are, by where they came from. */
export interface GoalCensus {
  unchangedBackfill: number;
  changedBackfill: number;
  clinician: number;
  /** Demo goals from the seeds (local databases only). */
  seed: number;
}

/**
 * Counts treatment_goals by provenance in one scan. `table` is its mapping when the caller has
 * read it already. @default read from the catalog
 */
export async function takeGoalCensus(db: SqlRunner, table?: GoalTableMapping): Promise<GoalCensus> {
  const GOAL_PROVENANCE_SQL = goalProvenanceSql(table ?? (await readGoalTableMapping(db)));
  const [row] = await db.rows<Record<keyof GoalCensus, unknown>>(
    `SELECT count(*) FILTER (WHERE ${GOAL_PROVENANCE_SQL.unchangedBackfill}) AS "unchangedBackfill",
            count(*) FILTER (WHERE ${GOAL_PROVENANCE_SQL.changedBackfill}) AS "changedBackfill",
            count(*) FILTER (WHERE ${GOAL_PROVENANCE_SQL.clinician}) AS clinician,
            count(*) FILTER (WHERE ${GOAL_PROVENANCE_SQL.seed}) AS seed
       FROM ${TABLES.goals}`,
  );
  return {
    unchangedBackfill: toCount(row?.unchangedBackfill),
    changedBackfill: toCount(row?.changedBackfill),
    clinician: toCount(row?.clinician),
    seed: toCount(row?.seed),
  };
}

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
  allowTeardown(await takeGoalCensus(sqlRunner(knex)), options);
}

/** {@link assertTeardownAllowed} on a census taken already. */
function allowTeardown(census: GoalCensus, options: Pick<TeardownOptions, 'allow' | 'logger'>) {
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
  allowTeardown(census, options);
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
  const db = sqlRunner(knex);
  const facts = await readGoalTableFacts(db);
  const adopted = facts?.columns.get(GOAL_PROVENANCE.origin)?.marked === true;
  const census = facts && adopted ? await takeGoalCensus(db, goalTableMapping(facts)) : null;
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
    why: `${TABLES.goals} is the app table: what goal-backfill added to it was removed, the table and its goals stay`,
  });
  return { outcome: 'released' };
}

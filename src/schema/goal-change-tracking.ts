import type { Knex } from 'knex';
import { BACKFILL_ORIGIN } from './goal-vocabulary';
import { sqlRunner } from '../db/sql-runner';
import { relationOwnership } from './ownership';
import { TABLES } from './tables';

/**
 * The names of what tells a changed backfilled goal from an untouched one, whatever the app
 * does with `updated_at`:
 * - `touchedColumn`: stamped with `clock_timestamp()` by `touchTrigger` on every UPDATE of a
 *   backfilled goal (NULL until then);
 * - `fingerprintColumn`: `fingerprintFunction` of the clinical columns as the goal was stored,
 *   set by the backfill's INSERT and kept by the trigger. It still tells an edit made while
 *   triggers were off (`session_replication_role = replica`);
 * - `baselineTrigger`: BEFORE INSERT, after the app's own BEFORE INSERT triggers (PostgreSQL
 *   fires them in name order, hence its `zz_`): when one of them changed the clinical columns
 *   or `updated_at` of a backfilled goal, `baselineFunction` takes the fingerprint and
 *   `backfilled_at` from the row as it will be stored, so an app's insert-time trigger never
 *   makes a goal look changed.
 */
export const GOAL_CHANGE_TRACKING = {
  touchedColumn: 'clinician_touched_at',
  fingerprintColumn: 'backfill_fingerprint',
  fingerprintFunction: 'goal_clinical_fingerprint',
  touchFunction: 'goal_mark_touched',
  touchTrigger: 'treatment_goals_mark_touched',
  baselineFunction: 'goal_backfill_baseline',
  baselineTrigger: 'zz_treatment_goals_backfill_baseline',
} as const;

/** The clinical columns of treatment_goals and their types, in the fingerprint's order. */
const CLINICAL_COLUMN_TYPES = [
  ['description', 'text'],
  ['category', 'text'],
  ['details', 'text'],
  ['status', 'text'],
  ['therapist_id', 'uuid'],
  ['session_id', 'uuid'],
] as const;

/** The clinical columns of treatment_goals, in the order the fingerprint function takes them. */
export const CLINICAL_COLUMNS = CLINICAL_COLUMN_TYPES.map(([column]) => column);

const FINGERPRINT_PARAMETERS = CLINICAL_COLUMN_TYPES.map(
  ([column, type]) => `${column} ${type}`,
).join(', ');

/**
 * SQL calling the fingerprint function on the given expressions of the clinical columns, in
 * the order of {@link CLINICAL_COLUMNS}; with no argument, on the columns themselves.
 */
export function fingerprintSql(columns: readonly string[] = CLINICAL_COLUMNS): string {
  return `${GOAL_CHANGE_TRACKING.fingerprintFunction}(${columns.join(', ')})`;
}

// Each column is hashed with a seed of its own (its position), so a value moved to another
// column changes the result, and NULL stands for the seed itself; the hashes are combined by
// XOR. These are the hash functions hash partitioning relies on (PostgreSQL 11 and later), and
// the body is inlined into the calling statement: the backfill's INSERT pays about half a
// microsecond a goal, where a SHA-256 of the columns as text cost four times as much, beyond
// the backfill's 5% budget.
const fingerprintBody = CLINICAL_COLUMN_TYPES.map(([column, type], i) => {
  const hash = type === 'text' ? 'hashtextextended' : 'uuid_hash_extended';
  return `coalesce(${hash}(${column}, ${i + 1}), ${i + 1})`;
}).join(' # ');

/** The fingerprint of the row a trigger is about to store. */
const NEW_ROW_FINGERPRINT = fingerprintSql(CLINICAL_COLUMNS.map((column) => `NEW.${column}`));

/**
 * Adds change tracking to treatment_goals: the two columns, the fingerprint function, the
 * BEFORE UPDATE trigger that marks a backfilled goal as touched and keeps its fingerprint, and
 * the BEFORE INSERT trigger that takes a backfilled goal's baseline from the row as stored.
 * Idempotent, so it can run again on a table that already has it.
 */
export async function createGoalChangeTracking(knex: Knex): Promise<void> {
  const {
    touchedColumn,
    fingerprintColumn,
    fingerprintFunction,
    touchFunction,
    touchTrigger,
    baselineFunction,
    baselineTrigger,
  } = GOAL_CHANGE_TRACKING;
  await knex.raw(
    `ALTER TABLE ${TABLES.goals}
       ADD COLUMN IF NOT EXISTS ${touchedColumn} timestamptz,
       ADD COLUMN IF NOT EXISTS ${fingerprintColumn} bigint`,
  );
  await knex.raw(
    `CREATE OR REPLACE FUNCTION ${fingerprintFunction}(${FINGERPRINT_PARAMETERS}) RETURNS bigint
       LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT ${fingerprintBody} $$`,
  );
  await knex.raw(
    `COMMENT ON FUNCTION ${fingerprintFunction}(${FINGERPRINT_PARAMETERS}) IS
       '64-bit hash of the clinical columns of a goal; the backfill stores it, and a goal whose columns no longer match it has been changed.'`,
  );
  await knex.raw(
    `CREATE OR REPLACE FUNCTION ${touchFunction}() RETURNS trigger
       LANGUAGE plpgsql
       AS $$
       BEGIN
         NEW.${touchedColumn} := clock_timestamp();
         NEW.${fingerprintColumn} := OLD.${fingerprintColumn};
         RETURN NEW;
       END
       $$`,
  );
  await knex.raw(`DROP TRIGGER IF EXISTS ${touchTrigger} ON ${TABLES.goals}`);
  await knex.raw(
    `CREATE TRIGGER ${touchTrigger} BEFORE UPDATE ON ${TABLES.goals}
       FOR EACH ROW WHEN (OLD.origin = '${BACKFILL_ORIGIN}')
       EXECUTE FUNCTION ${touchFunction}()`,
  );
  await knex.raw(
    `CREATE OR REPLACE FUNCTION ${baselineFunction}() RETURNS trigger
       LANGUAGE plpgsql
       AS $$
       BEGIN
         NEW.backfilled_at := NEW.updated_at;
         NEW.${fingerprintColumn} := ${NEW_ROW_FINGERPRINT};
         RETURN NEW;
       END
       $$`,
  );
  await knex.raw(`DROP TRIGGER IF EXISTS ${baselineTrigger} ON ${TABLES.goals}`);
  // The condition spares the function call (some 4 µs a goal, a third more on the INSERT)
  // whenever no app trigger changed the row from what the backfill's INSERT sends:
  // updated_at = backfilled_at, and the fingerprint of what it writes. The condition itself did
  // not show beside the noise (200,000 inserts: 0.98 s without the trigger, 0.99 s with it).
  // The INSERT still sends both, so a table without this trigger keeps the old baselines.
  await knex.raw(
    `CREATE TRIGGER ${baselineTrigger} BEFORE INSERT ON ${TABLES.goals}
       FOR EACH ROW WHEN (NEW.origin = '${BACKFILL_ORIGIN}' AND (
         NEW.updated_at IS DISTINCT FROM NEW.backfilled_at
         OR NEW.${fingerprintColumn} IS DISTINCT FROM ${NEW_ROW_FINGERPRINT}))
       EXECUTE FUNCTION ${baselineFunction}()`,
  );
}

/**
 * Removes what {@link createGoalChangeTracking} added, from a treatment_goals this package
 * created only; a no-op for what is already gone.
 */
export async function dropGoalChangeTracking(knex: Knex): Promise<void> {
  const {
    touchedColumn,
    fingerprintColumn,
    fingerprintFunction,
    touchFunction,
    touchTrigger,
    baselineFunction,
    baselineTrigger,
  } = GOAL_CHANGE_TRACKING;
  if ((await relationOwnership(sqlRunner(knex), TABLES.goals)) === 'ours') {
    await knex.raw(`DROP TRIGGER IF EXISTS ${touchTrigger} ON ${TABLES.goals}`);
    await knex.raw(`DROP TRIGGER IF EXISTS ${baselineTrigger} ON ${TABLES.goals}`);
    await knex.raw(
      `ALTER TABLE ${TABLES.goals}
         DROP COLUMN IF EXISTS ${touchedColumn},
         DROP COLUMN IF EXISTS ${fingerprintColumn}`,
    );
  }
  await knex.raw(`DROP FUNCTION IF EXISTS ${touchFunction}()`);
  await knex.raw(`DROP FUNCTION IF EXISTS ${baselineFunction}()`);
  await knex.raw(`DROP FUNCTION IF EXISTS ${fingerprintFunction}(${FINGERPRINT_PARAMETERS})`);
}

import type { Knex } from 'knex';
import { sqlRunner } from '../db/sql-runner';
import { BACKFILL_ORIGIN } from './goal-vocabulary';
import { type DdlSettings, lockSafeDdl } from './lock-safe-ddl';
import { markTriggerOwned, OWNERSHIP_MARK, relationOwnership } from './ownership';
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

/**
 * Which of the optional columns a treatment_goals has, as change tracking reads them
 * (`GoalTableMapping` in goal-table.ts is one).
 */
export interface TrackedGoalTable {
  has: Readonly<
    Record<
      'category' | 'details' | 'status' | 'therapist_id' | 'session_id' | 'updated_at',
      boolean
    >
  >;
}

/**
 * The clinical columns of `table` as the fingerprint takes them, each prefixed with `row` (`NEW.`
 * in a trigger): text columns (varchar, an enum, a domain) cast to text, and a column the table
 * lacks as NULL. The backfill's INSERT, the baseline trigger and the unchanged rule all use it,
 * so the three agree on any table.
 */
export function clinicalColumnsOf(table: TrackedGoalTable, row = ''): string[] {
  return CLINICAL_COLUMNS.map((column) => {
    if (column !== 'description' && !table.has[column]) return 'NULL';
    return column === 'therapist_id' || column === 'session_id'
      ? `${row}${column}`
      : `CAST(${row}${column} AS text)`;
  });
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

type TriggerState = 'missing' | 'marked' | 'unmarked';

/** Whether `trigger` is on treatment_goals, and whether it carries this package's mark. */
async function triggerState(knex: Knex, trigger: string): Promise<TriggerState> {
  const [row] = await sqlRunner(knex).rows<{ comment: string | null }>(
    `SELECT obj_description(oid, 'pg_trigger') AS comment FROM pg_trigger
      WHERE tgname = ? AND tgrelid = to_regclass(?) AND NOT tgisinternal`,
    [trigger, TABLES.goals],
  );
  if (!row) return 'missing';
  return row.comment === OWNERSHIP_MARK ? 'marked' : 'unmarked';
}

/**
 * Adds change tracking to treatment_goals, whose provenance columns exist already
 * (src/schema/goal-schema.ts adds them), as `table` maps it: the fingerprint function; the
 * BEFORE UPDATE trigger that marks a backfilled goal as touched and keeps its fingerprint; and
 * the BEFORE INSERT trigger that takes a backfilled goal's baseline from the row as stored. Both
 * triggers are marked as this package's, act on backfilled goals only and only on this
 * package's columns: they never refuse or alter what the app writes. Their creation waits for
 * the table's lock under `lock_timeout`, tried again when the app holds it. Idempotent.
 */
export async function createGoalChangeTracking(
  knex: Knex,
  settings: DdlSettings,
  table: TrackedGoalTable,
): Promise<void> {
  const {
    touchedColumn,
    fingerprintColumn,
    fingerprintFunction,
    touchFunction,
    touchTrigger,
    baselineFunction,
    baselineTrigger,
  } = GOAL_CHANGE_TRACKING;
  const newRowFingerprint = fingerprintSql(clinicalColumnsOf(table, 'NEW.'));
  // A table without updated_at (an app's) has no second baseline: the rule judges it by the rest.
  const updatedAt = table.has.updated_at ? 'NEW.updated_at' : 'NEW.backfilled_at';
  await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
    await trx.raw(
      `CREATE OR REPLACE FUNCTION ${fingerprintFunction}(${FINGERPRINT_PARAMETERS}) RETURNS bigint
         LANGUAGE sql IMMUTABLE PARALLEL SAFE
         AS $$ SELECT ${fingerprintBody} $$`,
    );
    await trx.raw(
      `COMMENT ON FUNCTION ${fingerprintFunction}(${FINGERPRINT_PARAMETERS}) IS
         '64-bit hash of the clinical columns of a goal; the backfill stores it, and a goal whose columns no longer match it has been changed.'`,
    );
    await trx.raw(
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
    await trx.raw(
      `CREATE OR REPLACE FUNCTION ${baselineFunction}() RETURNS trigger
         LANGUAGE plpgsql
         AS $$
         BEGIN
           NEW.backfilled_at := ${updatedAt};
           NEW.${fingerprintColumn} := ${newRowFingerprint};
           RETURN NEW;
         END
         $$`,
    );
  });
  if ((await triggerState(knex, touchTrigger)) === 'missing') {
    await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
      await trx.raw(
        `CREATE TRIGGER ${touchTrigger} BEFORE UPDATE ON ${TABLES.goals}
           FOR EACH ROW WHEN (OLD.origin = '${BACKFILL_ORIGIN}')
           EXECUTE FUNCTION ${touchFunction}()`,
      );
      await markTriggerOwned(sqlRunner(trx), touchTrigger, TABLES.goals);
    });
  }
  if ((await triggerState(knex, baselineTrigger)) === 'missing') {
    // The condition spares the function call (some 4 µs a goal, a third more on the INSERT)
    // whenever no app trigger changed the row from what the backfill's INSERT sends:
    // updated_at = backfilled_at, and the fingerprint of what it writes. The condition itself
    // did not show beside the noise (200,000 inserts: 0.98 s without the trigger, 0.99 s with
    // it). The INSERT still sends both, so a table without this trigger keeps the old baselines.
    await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
      await trx.raw(
        `CREATE TRIGGER ${baselineTrigger} BEFORE INSERT ON ${TABLES.goals}
           FOR EACH ROW WHEN (NEW.origin = '${BACKFILL_ORIGIN}' AND (
             ${updatedAt} IS DISTINCT FROM NEW.backfilled_at
             OR NEW.${fingerprintColumn} IS DISTINCT FROM ${newRowFingerprint}))
           EXECUTE FUNCTION ${baselineFunction}()`,
      );
      await markTriggerOwned(sqlRunner(trx), baselineTrigger, TABLES.goals);
    });
  }
}

/**
 * Removes what {@link createGoalChangeTracking} added: each trigger (from a treatment_goals this
 * package created, or one it adopted where the trigger carries its mark), under `lock_timeout`,
 * and the three functions; a no-op for what is already gone.
 */
export async function dropGoalChangeTracking(knex: Knex, settings: DdlSettings): Promise<void> {
  const { fingerprintFunction, touchFunction, touchTrigger, baselineFunction, baselineTrigger } =
    GOAL_CHANGE_TRACKING;
  const ours = (await relationOwnership(sqlRunner(knex), TABLES.goals)) === 'ours';
  for (const trigger of [touchTrigger, baselineTrigger]) {
    const state = await triggerState(knex, trigger);
    if (state === 'marked' || (state === 'unmarked' && ours)) {
      await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
        await trx.raw(`DROP TRIGGER IF EXISTS ${trigger} ON ${TABLES.goals}`);
      });
    }
  }
  await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
    await trx.raw(`DROP FUNCTION IF EXISTS ${touchFunction}()`);
    await trx.raw(`DROP FUNCTION IF EXISTS ${baselineFunction}()`);
    await trx.raw(`DROP FUNCTION IF EXISTS ${fingerprintFunction}(${FINGERPRINT_PARAMETERS})`);
  });
}

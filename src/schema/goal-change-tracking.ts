import type { Knex } from 'knex';
import { BACKFILL_ORIGIN } from './goal-vocabulary';
import { sqlRunner } from '../db/sql-runner';
import { type DdlSettings, lockSafeDdl } from './lock-safe-ddl';
import { markTriggerOwned, OWNERSHIP_MARK, relationOwnership } from './ownership';
import { TABLES } from './tables';

/**
 * The names of what tells a changed backfilled goal from an untouched one, whatever the app
 * does with `updated_at`:
 * - `touchedColumn`: stamped with `clock_timestamp()` by `touchTrigger` on every UPDATE of a
 *   backfilled goal (NULL until then);
 * - `fingerprintColumn`: `fingerprintFunction` of the clinical columns as the backfill wrote
 *   them, set by the backfill's INSERT and kept by the trigger. It still tells an edit made
 *   while triggers were off (`session_replication_role = replica`).
 */
export const GOAL_CHANGE_TRACKING = {
  touchedColumn: 'clinician_touched_at',
  fingerprintColumn: 'backfill_fingerprint',
  fingerprintFunction: 'goal_clinical_fingerprint',
  touchFunction: 'goal_mark_touched',
  touchTrigger: 'treatment_goals_mark_touched',
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

/** Whether the touch trigger is on treatment_goals, and whether it carries this package's mark. */
async function touchTriggerState(knex: Knex): Promise<'missing' | 'marked' | 'unmarked'> {
  const [row] = await sqlRunner(knex).rows<{ comment: string | null }>(
    `SELECT obj_description(oid, 'pg_trigger') AS comment FROM pg_trigger
      WHERE tgname = ? AND tgrelid = to_regclass(?) AND NOT tgisinternal`,
    [GOAL_CHANGE_TRACKING.touchTrigger, TABLES.goals],
  );
  if (!row) return 'missing';
  return row.comment === OWNERSHIP_MARK ? 'marked' : 'unmarked';
}

/**
 * Adds change tracking to treatment_goals, whose provenance columns exist already
 * (src/schema/goal-schema.ts adds them): the fingerprint function, and the BEFORE UPDATE trigger
 * that marks a backfilled goal as touched and keeps its fingerprint, marked as this package's.
 * The trigger acts on backfilled goals only, and only on this package's columns: it never
 * refuses or alters what the app writes. Its creation waits for the table's lock under
 * `lock_timeout`, tried again when the app holds it. Idempotent.
 */
export async function createGoalChangeTracking(knex: Knex, settings: DdlSettings): Promise<void> {
  const { touchedColumn, fingerprintColumn, fingerprintFunction, touchFunction, touchTrigger } =
    GOAL_CHANGE_TRACKING;
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
  });
  if ((await touchTriggerState(knex)) !== 'missing') return;
  await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
    await trx.raw(
      `CREATE TRIGGER ${touchTrigger} BEFORE UPDATE ON ${TABLES.goals}
         FOR EACH ROW WHEN (OLD.origin = '${BACKFILL_ORIGIN}')
         EXECUTE FUNCTION ${touchFunction}()`,
    );
    await markTriggerOwned(sqlRunner(trx), touchTrigger, TABLES.goals);
  });
}

/**
 * Removes what {@link createGoalChangeTracking} added: the trigger (from a treatment_goals this
 * package created, or one it adopted where the trigger carries its mark), under `lock_timeout`,
 * and the two functions; a no-op for what is already gone.
 */
export async function dropGoalChangeTracking(knex: Knex, settings: DdlSettings): Promise<void> {
  const { fingerprintFunction, touchFunction, touchTrigger } = GOAL_CHANGE_TRACKING;
  const trigger = await touchTriggerState(knex);
  const ours = (await relationOwnership(sqlRunner(knex), TABLES.goals)) === 'ours';
  if (trigger === 'marked' || (trigger === 'unmarked' && ours)) {
    await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
      await trx.raw(`DROP TRIGGER IF EXISTS ${touchTrigger} ON ${TABLES.goals}`);
    });
  }
  await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
    await trx.raw(`DROP FUNCTION IF EXISTS ${touchFunction}()`);
    await trx.raw(`DROP FUNCTION IF EXISTS ${fingerprintFunction}(${FINGERPRINT_PARAMETERS})`);
  });
}

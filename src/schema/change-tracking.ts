import { setTimeout as delay } from 'node:timers/promises';
import type { Knex } from 'knex';
import type { PinnedConnection } from '../db/connection';
import { sqlStateOf } from '../db/failures';
import { type SqlRunner, sqlRunner } from '../db/sql-runner';
import { ChangeCaptureBlockedError, GoalSchemaConflictError } from '../errors';
import { BACKFILL_ORIGIN, COLUMNS, GOAL_PROVENANCE, INDEXES, ROUTINES, TABLES } from '../names';
import {
  type DdlSettings,
  lockSafeDdl,
  markOwned,
  markTriggerOwned,
  OWNERSHIP_MARK,
  relationOwnership,
} from './lock-safe-ddl';

/**
 * What this package adds to the app's tables to see the app's writes: on treatment_goals, the
 * change tracking that tells a changed backfilled goal from an untouched one; on
 * therapy_sessions, for the length of a run, the change capture that records which sessions the
 * app wrote.
 */

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
 *   makes a goal look changed. Its condition reads this package's `origin` alone: a condition
 *   that read the app's columns would make PostgreSQL refuse the app's own `ALTER COLUMN … TYPE`
 *   and `DROP COLUMN` of them.
 */
export const GOAL_CHANGE_TRACKING = {
  touchedColumn: GOAL_PROVENANCE.touchedAt,
  fingerprintColumn: GOAL_PROVENANCE.fingerprint,
  fingerprintFunction: ROUTINES.goalFingerprintFunction,
  touchFunction: ROUTINES.goalTouchFunction,
  touchTrigger: ROUTINES.goalTouchTrigger,
  baselineFunction: ROUTINES.goalBaselineFunction,
  baselineTrigger: ROUTINES.goalBaselineTrigger,
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
async function triggerState(db: SqlRunner, trigger: string): Promise<TriggerState> {
  const [row] = await db.rows<{ comment: string | null }>(
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
 * the table's lock under `lock_timeout`, tried again when the app holds it. An earlier
 * version's baseline trigger, whose condition read the app's columns, is replaced. Idempotent.
 */
export async function createGoalChangeTracking(
  knex: Knex,
  settings: DdlSettings,
  table: TrackedGoalTable,
): Promise<void> {
  const { touchedColumn, fingerprintColumn, fingerprintFunction, touchFunction, touchTrigger } =
    GOAL_CHANGE_TRACKING;
  const { origin } = GOAL_PROVENANCE;
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
    await trx.raw(baselineFunctionSql(table));
  });
  if ((await triggerState(sqlRunner(knex), touchTrigger)) === 'missing') {
    await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
      await trx.raw(
        `CREATE TRIGGER ${touchTrigger} BEFORE UPDATE ON ${TABLES.goals}
           FOR EACH ROW WHEN (OLD.${origin} = '${BACKFILL_ORIGIN}')
           EXECUTE FUNCTION ${touchFunction}()`,
      );
      await markTriggerOwned(sqlRunner(trx), touchTrigger, TABLES.goals);
    });
  }
  const baseline = await baselineTriggerState(sqlRunner(knex));
  if (baseline === 'missing' || baseline === 'reads_app_columns') {
    await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
      await placeBaselineTrigger(sqlRunner(trx), baseline);
    });
  }
}

/**
 * The function that takes a backfilled goal's baselines from the row as stored, for `table` as
 * it is now: it compares first, so a row no app trigger changed keeps what the INSERT sent.
 * Its body names the app's columns, which PostgreSQL does not record as a dependency, so the
 * app stays free to change or drop them; a run writes it again for the table it finds.
 */
function baselineFunctionSql(table: TrackedGoalTable): string {
  const { fingerprintColumn, baselineFunction } = GOAL_CHANGE_TRACKING;
  const { backfilledAt } = GOAL_PROVENANCE;
  const newRowFingerprint = fingerprintSql(clinicalColumnsOf(table, 'NEW.'));
  // A table without updated_at (an app's) has no second baseline: the rule judges it by the rest.
  const updatedAt = table.has.updated_at ? 'NEW.updated_at' : `NEW.${backfilledAt}`;
  return `CREATE OR REPLACE FUNCTION ${baselineFunction}() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
      IF ${updatedAt} IS DISTINCT FROM NEW.${backfilledAt}
         OR NEW.${fingerprintColumn} IS DISTINCT FROM ${newRowFingerprint} THEN
        NEW.${backfilledAt} := ${updatedAt};
        NEW.${fingerprintColumn} := ${newRowFingerprint};
      END IF;
      RETURN NEW;
    END
    $$`;
}

/**
 * Where the baseline trigger stands: missing, in place as this version makes it, made by an
 * earlier version, whose condition read the app's columns (PostgreSQL then records a dependency
 * on each of them, and refuses the app's `ALTER COLUMN … TYPE` and `DROP COLUMN` of them), or a
 * trigger of that name without this package's mark, which is not this package's to replace.
 */
type BaselineTriggerState = 'missing' | 'current' | 'reads_app_columns' | 'not_ours';

async function baselineTriggerState(db: SqlRunner): Promise<BaselineTriggerState> {
  const { baselineTrigger } = GOAL_CHANGE_TRACKING;
  const state = await triggerState(db, baselineTrigger);
  if (state !== 'marked') return state === 'missing' ? 'missing' : 'not_ours';
  const [row] = await db.rows<{ app_columns: string | number }>(
    `SELECT count(*) AS app_columns FROM pg_trigger t
       JOIN pg_depend d ON d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
                       AND d.refobjid = t.tgrelid AND d.refobjsubid > 0
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
      WHERE t.tgname = ? AND t.tgrelid = to_regclass(?) AND NOT t.tgisinternal
        AND a.attname <> ?`,
    [baselineTrigger, TABLES.goals, GOAL_PROVENANCE.origin],
  );
  return Number(row?.app_columns ?? 0) > 0 ? 'reads_app_columns' : 'current';
}

/** Creates the baseline trigger, in place of an earlier version's, in the transaction of `trx`. */
async function placeBaselineTrigger(trx: SqlRunner, state: BaselineTriggerState): Promise<void> {
  const { baselineTrigger, baselineFunction } = GOAL_CHANGE_TRACKING;
  if (state === 'reads_app_columns') {
    await trx.rows(`DROP TRIGGER IF EXISTS ${baselineTrigger} ON ${TABLES.goals}`);
  }
  await trx.rows(
    `CREATE TRIGGER ${baselineTrigger} BEFORE INSERT ON ${TABLES.goals}
       FOR EACH ROW WHEN (NEW.${GOAL_PROVENANCE.origin} = '${BACKFILL_ORIGIN}')
       EXECUTE FUNCTION ${baselineFunction}()`,
  );
  await markTriggerOwned(trx, baselineTrigger, TABLES.goals);
}

/**
 * What {@link refreshGoalBaseline} did: nothing (no change tracking), wrote the function again,
 * also replaced an earlier version's trigger, or kept that trigger (the app's writes held the
 * table past `lock_timeout`). It needs the privileges every run needs already: a run's start
 * writes the change capture's function again too.
 */
export type BaselineRefresh = 'none' | 'refreshed' | 'trigger_replaced' | 'trigger_kept';

/**
 * At a run's start: writes the baseline function again for the table as it is now (the app may
 * have changed or dropped a column since the chain ran), and replaces an earlier version's
 * baseline trigger, whose condition read the app's columns. Only where change tracking is in
 * place; the trigger is swapped in one transaction under the connection's `lock_timeout`, and
 * left as it is when the app's writes hold the table that long (it still works, only the app's
 * changes of those columns stay refused until a later run).
 */
export async function refreshGoalBaseline(
  db: PinnedConnection,
  table: TrackedGoalTable,
): Promise<BaselineRefresh> {
  const [exists] = await db.rows<{ present: boolean }>(
    `SELECT to_regprocedure(?) IS NOT NULL AS present`,
    [`${GOAL_CHANGE_TRACKING.baselineFunction}()`],
  );
  if (!exists?.present) return 'none';
  await db.rows(baselineFunctionSql(table));
  const state = await baselineTriggerState(db);
  if (state !== 'reads_app_columns') return 'refreshed';
  try {
    await db.transaction((trx) => placeBaselineTrigger(sqlRunner(trx), state));
    return 'trigger_replaced';
  } catch (err) {
    if (sqlStateOf(err) === '55P03') return 'trigger_kept';
    throw err;
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
    const state = await triggerState(sqlRunner(knex), trigger);
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

/**
 * Change capture: which sessions the app wrote while a run was going.
 *
 * A row's `xmin` cannot tell that: freezing keeps its raw 32-bit value, so on a database past
 * its first 2^32 transactions an old frozen session and one written a minute ago can carry the
 * same number. Instead, while a real run is under way (from its start until it completes,
 * interruptions included), a trigger on therapy_sessions records the id of every session the
 * app inserts or updates in {@link SESSION_CHANGES}, in the app's own transaction, so the
 * record commits (or rolls back) with the session itself. The first pass reads the sessions
 * with no record; each catch-up pass claims the records committed so far and reads their
 * sessions. Nothing depends on transaction ids, so it holds on a database of any age.
 *
 * The trigger only appends a row to a table of this package's: it never refuses or alters the
 * app's write. It runs as the table's owner (SECURITY DEFINER, with its own search_path), so an
 * app role that may not write the table is not refused either.
 */
export const SESSION_CHANGES = {
  table: TABLES.sessionChanges,
  index: INDEXES.sessionChangeSession,
  function: ROUTINES.sessionCaptureFunction,
  trigger: ROUTINES.sessionCaptureTrigger,
} as const;

/**
 * The schema an unqualified CREATE FUNCTION lands in, by name as the catalog spells it: a cast
 * to regnamespace would parse the name as SQL, folding `App` to `app` and refusing `my schema`.
 */
const CURRENT_SCHEMA_OID = '(SELECT oid FROM pg_namespace WHERE nspname = current_schema())';

/** The session columns a goal is derived from: an update of any other column changes no goal. */
const CAPTURED_COLUMNS = COLUMNS.sessions.join(', ');

/** How many times taking the session table's lock is tried before the run gives up. */
const LOCK_ATTEMPTS = 5;

function functionSql(capturing: boolean): string {
  const body = capturing
    ? `INSERT INTO ${SESSION_CHANGES.table} (session_id) VALUES (NEW.id); RETURN NULL;`
    : 'RETURN NULL;';
  return `CREATE OR REPLACE FUNCTION ${SESSION_CHANGES.function}() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
    AS $$ BEGIN ${body} END $$`;
}

async function triggerExists(db: SqlRunner): Promise<boolean> {
  const rows = await db.rows(
    `SELECT 1 FROM pg_trigger
      WHERE tgname = ? AND tgrelid = to_regclass(?) AND NOT tgisinternal`,
    [SESSION_CHANGES.trigger, TABLES.sessions],
  );
  return rows.length > 0;
}

/** The backends holding a lock on therapy_sessions that a trigger's creation waits for. */
async function sessionTableWriters(db: SqlRunner): Promise<number[]> {
  const rows = await db.rows<{ pid: number }>(
    `SELECT DISTINCT pid FROM pg_locks
      WHERE locktype = 'relation' AND relation = to_regclass(?) AND granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND pid <> pg_backend_pid()
        AND mode IN ('RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock',
                     'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
      ORDER BY pid`,
    [TABLES.sessions],
  );
  return rows.map((row) => Number(row.pid));
}

/** Whether the session table is set to capture changes now: a run's resume needs it to be. */
export async function changeCaptureActive(db: SqlRunner): Promise<boolean> {
  const [row] = await db.rows<{ capturing: boolean }>(
    `SELECT position('INSERT INTO' IN prosrc) > 0 AS capturing FROM pg_proc
      WHERE proname = ? AND pronamespace = ${CURRENT_SCHEMA_OID}`,
    [SESSION_CHANGES.function],
  );
  return row?.capturing === true && (await triggerExists(db));
}

export interface StartCaptureOptions {
  /** The `lock_timeout` of each try at the session table's lock, in ms (0: no limit). */
  lockTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * Starts recording the sessions the app writes, before the first page of a run. It takes the
 * session table's SHARE ROW EXCLUSIVE lock, briefly and under `lock_timeout`, so that it waits
 * for the transactions writing sessions at that moment: each of them either committed before
 * capture began, and every later page sees its sessions, or writes after, and is recorded. A
 * try that times out is retried after a pause; the app's writes queue behind it for at most one
 * `lock_timeout`. After {@link LOCK_ATTEMPTS} tries it throws {@link ChangeCaptureBlockedError}.
 */
export async function startChangeCapture(
  db: PinnedConnection,
  options: StartCaptureOptions,
): Promise<void> {
  if ((await relationOwnership(db, SESSION_CHANGES.table)) === 'theirs') {
    throw new GoalSchemaConflictError([SESSION_CHANGES.table]);
  }
  // One transaction: the index is built on a table no one else can see yet.
  await db.transaction(async (trx) => {
    await trx.raw(
      `CREATE TABLE IF NOT EXISTS ${SESSION_CHANGES.table} (
         seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         session_id uuid NOT NULL,
         pass integer
       )`,
    );
    await trx.raw(
      `CREATE INDEX IF NOT EXISTS ${SESSION_CHANGES.index}
         ON ${SESSION_CHANGES.table} (session_id, pass)`,
    );
    await markOwned(sqlRunner(trx), 'TABLE', SESSION_CHANGES.table);
  });
  for (let attempt = 1; ; attempt += 1) {
    try {
      await db.transaction(async (trx) => {
        await trx.raw(`SET LOCAL lock_timeout = ${Math.trunc(options.lockTimeoutMs)}`);
        await trx.raw(`LOCK TABLE ${TABLES.sessions} IN SHARE ROW EXCLUSIVE MODE`);
        await trx.raw(functionSql(true));
        if (!(await triggerExists(sqlRunner(trx)))) {
          await trx.raw(
            `CREATE TRIGGER ${SESSION_CHANGES.trigger}
               AFTER INSERT OR UPDATE OF ${CAPTURED_COLUMNS} ON ${TABLES.sessions}
               FOR EACH ROW EXECUTE FUNCTION ${SESSION_CHANGES.function}()`,
          );
        }
      });
      return;
    } catch (err) {
      if (sqlStateOf(err) !== '55P03') throw err;
      if (attempt >= LOCK_ATTEMPTS || options.signal?.aborted) {
        throw new ChangeCaptureBlockedError(await sessionTableWriters(db), attempt, {
          cause: err,
        });
      }
      await delay(250 * attempt, undefined, { signal: options.signal }).catch(() => {});
    }
  }
}

/**
 * Stops recording once a run has completed: the function becomes a no-op at once (that takes
 * no lock on the app's table), then the trigger is dropped if its ACCESS EXCLUSIVE lock is free
 * within `lock_timeout`; if not, the no-op trigger stays until the next run or the rollback.
 * Returns whether the trigger is gone.
 */
export async function stopChangeCapture(db: PinnedConnection, lockTimeoutMs: number) {
  await db.rows(functionSql(false));
  await db.rows(`DELETE FROM ${SESSION_CHANGES.table}`);
  try {
    await db.transaction(async (trx) => {
      await trx.raw(`SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
      await trx.raw(`DROP TRIGGER IF EXISTS ${SESSION_CHANGES.trigger} ON ${TABLES.sessions}`);
    });
    return true;
  } catch (err) {
    if (sqlStateOf(err) !== '55P03') throw err;
    return false;
  }
}

/**
 * Removes change capture whole (trigger, function, table), for the rollback and the schema's
 * teardown, so nothing of it is left on the app's table. The function becomes a no-op first,
 * which takes no lock on the app's table; the trigger's drop then waits at most the
 * connection's lock_timeout, and a timeout (SQLSTATE 55P03) is thrown to the caller, with the
 * trigger left in place as a no-op when `db` is not in a transaction.
 */
export async function removeChangeCapture(db: SqlRunner): Promise<void> {
  const [state] = await db.rows<{ sessions: boolean; fn: boolean }>(
    `SELECT to_regclass(?) IS NOT NULL AS sessions,
            EXISTS (SELECT 1 FROM pg_proc WHERE proname = ?
                       AND pronamespace = ${CURRENT_SCHEMA_OID}) AS fn`,
    [TABLES.sessions, SESSION_CHANGES.function],
  );
  if (state?.fn) await db.rows(functionSql(false));
  if (state?.sessions && (await triggerExists(db))) {
    await db.rows(`DROP TRIGGER ${SESSION_CHANGES.trigger} ON ${TABLES.sessions}`);
  }
  await db.rows(`DROP FUNCTION IF EXISTS ${SESSION_CHANGES.function}()`);
  if ((await relationOwnership(db, SESSION_CHANGES.table)) === 'ours') {
    await db.rows(`DROP TABLE ${SESSION_CHANGES.table}`);
  }
}

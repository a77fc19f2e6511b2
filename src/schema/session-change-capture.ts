import { setTimeout as delay } from 'node:timers/promises';
import type { PinnedConnection } from '../db/pinned-connection';
import { type SqlRunner, sqlRunner } from '../db/sql-runner';
import { sqlStateOf } from '../db/sqlstate';
import { ChangeCaptureBlockedError } from '../errors/change-capture-blocked-error';
import { GoalSchemaConflictError } from '../errors/goal-schema-conflict-error';
import { markOwned, relationOwnership } from './ownership';
import { TABLES } from './tables';

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
  index: `${TABLES.sessionChanges}_session_idx`,
  function: 'goal_backfill_capture_session_change',
  trigger: 'goal_backfill_capture_session_change',
} as const;

/**
 * The schema an unqualified CREATE FUNCTION lands in, by name as the catalog spells it: a cast
 * to regnamespace would parse the name as SQL, folding `App` to `app` and refusing `my schema`.
 */
const CURRENT_SCHEMA_OID = '(SELECT oid FROM pg_namespace WHERE nspname = current_schema())';

/** The session columns a goal is derived from: an update of any other column changes no goal. */
const CAPTURED_COLUMNS = 'id, patient_id, therapist_id, session_date, extracted_notes';

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

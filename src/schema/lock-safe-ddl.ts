import { setTimeout as delay } from 'node:timers/promises';
import type { Knex } from 'knex';
import { PinnedConnection } from '../db/connection';
import { sqlStateOf } from '../db/failures';
import { type SqlRunner, sqlRunner } from '../db/sql-runner';
import { SchemaChangeBlockedError } from '../errors';

/**
 * The comment this package puts on every table and index it creates. Rollbacks and resets drop
 * an object only when it carries this mark, so nothing the app created (a `users` table that
 * existed before the chain, an index an operator built CONCURRENTLY) is ever dropped.
 */
export const OWNERSHIP_MARK = 'goal-backfill: created by this package; dropped by its rollback';

/** Relations that can carry the mark. */
export type OwnedRelationKind = 'TABLE' | 'INDEX';

/** Comments `name` as created by this package. Call it in the statement batch that creates it. */
export async function markOwned(
  db: SqlRunner,
  kind: OwnedRelationKind,
  name: string,
): Promise<void> {
  // COMMENT takes no bindings; the names come from this package's constants, the mark is fixed.
  await db.rows(`COMMENT ON ${kind} ${name} IS '${OWNERSHIP_MARK}'`);
}

/**
 * Comments the column `table.column` as added by this package: a rollback of the schema removes
 * from a table the app owns exactly the columns that carry the mark.
 */
export async function markColumnOwned(db: SqlRunner, table: string, column: string): Promise<void> {
  await db.rows(`COMMENT ON COLUMN ${table}.${column} IS '${OWNERSHIP_MARK}'`);
}

/** Comments the trigger `trigger` on `table` as created by this package. */
export async function markTriggerOwned(
  db: SqlRunner,
  trigger: string,
  table: string,
): Promise<void> {
  await db.rows(`COMMENT ON TRIGGER ${trigger} ON ${table} IS '${OWNERSHIP_MARK}'`);
}

/** What exists under `name` in the search path, and whether this package created it. */
export type RelationOwnership = 'missing' | 'ours' | 'theirs';

/** Looks up `name` (a table or index in the search path) and its mark. */
export async function relationOwnership(db: SqlRunner, name: string): Promise<RelationOwnership> {
  const [row] = await db.rows<{ present: boolean; comment: string | null }>(
    `SELECT to_regclass(?) IS NOT NULL AS present,
            obj_description(to_regclass(?), 'pg_class') AS comment`,
    [name, name],
  );
  if (!row?.present) return 'missing';
  return row.comment === OWNERSHIP_MARK ? 'ours' : 'theirs';
}

/**
 * How the schema migration changes tables the app writes. Every statement that takes a lock the
 * app's writes would queue behind runs under `lock_timeout`, so a table held by a long
 * transaction costs the app at most one `lock_timeout` of waiting per try, never a stall; the
 * try is then made again after a pause, up to `attempts` times.
 */
export interface DdlSettings {
  /** `lock_timeout` of each try, in ms. @default 2000 */
  lockTimeoutMs: number;
  /** `statement_timeout` of each statement that runs in a transaction, in ms (0: none). @default 120000 */
  statementTimeoutMs: number;
  /** Tries of one change before {@link SchemaChangeBlockedError}. @default 8 */
  attempts: number;
}

/** The settings of the schema migration when GOAL_BACKFILL_LOCK_TIMEOUT_MS and _STATEMENT_TIMEOUT_MS are unset. */
export const DEFAULT_DDL_SETTINGS: DdlSettings = {
  lockTimeoutMs: 2000,
  statementTimeoutMs: 120_000,
  attempts: 8,
};

/** The pause before the next try: longer each time, at most two seconds. */
const pauseMs = (tries: number) => Math.min(250 * tries, 2000);

const whole = (ms: number) => Math.max(0, Math.trunc(ms));

/** The backends other than this one that hold a lock on `table`. */
async function lockHolders(db: SqlRunner, table: string): Promise<number[]> {
  const rows = await db.rows<{ pid: number }>(
    `SELECT DISTINCT pid FROM pg_locks
      WHERE locktype = 'relation' AND relation = to_regclass(?) AND granted
        AND pid <> pg_backend_pid()
      ORDER BY pid`,
    [table],
  );
  return rows.map((row) => Number(row.pid));
}

async function tryUntilLocked<T>(
  db: SqlRunner,
  settings: DdlSettings,
  table: string,
  attempt: () => Promise<T>,
  beforeRetry?: () => Promise<void>,
): Promise<T> {
  for (let tries = 1; ; tries += 1) {
    try {
      return await attempt();
    } catch (err) {
      if (sqlStateOf(err) !== '55P03') throw err;
      if (tries >= Math.max(1, settings.attempts)) {
        throw new SchemaChangeBlockedError(table, await lockHolders(db, table), tries, {
          cause: err,
        });
      }
      await delay(pauseMs(tries));
      await beforeRetry?.();
    }
  }
}

/**
 * Runs `work` in a transaction of its own under a short `lock_timeout` and `statement_timeout`
 * (SET LOCAL), and tries again when a lock was not granted in time. `work` changes `table` and
 * must be safe to run again: a try that timed out has rolled back whole.
 */
export async function lockSafeDdl(
  knex: Knex,
  settings: DdlSettings,
  table: string,
  work: (trx: Knex.Transaction) => Promise<void>,
): Promise<void> {
  await tryUntilLocked(sqlRunner(knex), settings, table, () =>
    knex.transaction(async (trx) => {
      await trx.raw(`SET LOCAL lock_timeout = ${whole(settings.lockTimeoutMs)}`);
      await trx.raw(`SET LOCAL statement_timeout = ${whole(settings.statementTimeoutMs)}`);
      await work(trx);
    }),
  );
}

/** An index built or dropped CONCURRENTLY by {@link buildIndexConcurrently}. */
export interface ConcurrentIndex {
  name: string;
  table: string;
  /** What follows `ON <table>`: the key columns or expressions, in parentheses. */
  keys: string;
  /** A unique index. @default false */
  unique?: boolean;
}

/**
 * Runs `work` on one pooled connection outside any transaction, with the session's
 * `lock_timeout` set for it and no `statement_timeout`: a concurrent build blocks no write of
 * the app, and it takes as long as the table needs. The session is reset before the
 * connection goes back to the pool.
 */
async function onOwnConnection<T>(
  knex: Knex,
  settings: DdlSettings,
  work: (db: PinnedConnection) => Promise<T>,
): Promise<T> {
  const raw: unknown = await knex.client.acquireConnection();
  const db = new PinnedConnection(knex, raw);
  try {
    await db.rows(`SET lock_timeout = ${whole(settings.lockTimeoutMs)}`);
    await db.rows('SET statement_timeout = 0');
    return await work(db);
  } finally {
    await db.rows('RESET lock_timeout').catch(() => {});
    await db.rows('RESET statement_timeout').catch(() => {});
    await knex.client.releaseConnection(raw);
  }
}

/** Whether an index named `name` exists, and whether it is valid (a failed concurrent build leaves it invalid). */
async function indexState(db: SqlRunner, name: string): Promise<'missing' | 'valid' | 'invalid'> {
  const [row] = await db.rows<{ valid: boolean | null }>(
    'SELECT (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(?)) AS valid',
    [name],
  );
  if (row?.valid === null || row?.valid === undefined) return 'missing';
  return row.valid ? 'valid' : 'invalid';
}

/**
 * Builds `index` with CREATE INDEX CONCURRENTLY, which lets the app read and write the table
 * throughout, and marks it as this package's. A valid index of that name is kept as it is,
 * whoever built it (an operator's stays unmarked, and no rollback drops it). An invalid one, left
 * by a concurrent build that failed (this package's or an operator's), is dropped concurrently
 * and built again: it would only slow the app's writes down. A build whose lock wait timed out is
 * cleaned up the same way and tried again. Returns whether this call built it.
 */
export async function buildIndexConcurrently(
  knex: Knex,
  settings: DdlSettings,
  index: ConcurrentIndex,
): Promise<boolean> {
  return onOwnConnection(knex, settings, async (db) => {
    if ((await indexState(db, index.name)) === 'valid') return false;
    const dropInvalid = async () => {
      if ((await indexState(db, index.name)) === 'invalid') {
        await db.rows(`DROP INDEX CONCURRENTLY IF EXISTS ${index.name}`);
      }
    };
    await tryUntilLocked(
      db,
      settings,
      index.table,
      async () => {
        await dropInvalid();
        await db.rows(
          `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY IF NOT EXISTS ${index.name}
             ON ${index.table} ${index.keys}`,
        );
      },
      dropInvalid,
    );
    await markOwned(db, 'INDEX', index.name);
    return true;
  });
}

/**
 * Drops the index `name` with DROP INDEX CONCURRENTLY, when it exists and, unless `anyOwner`,
 * carries this package's mark. Returns whether it dropped one.
 */
export async function dropIndexConcurrently(
  knex: Knex,
  settings: DdlSettings,
  index: { name: string; table: string },
  anyOwner = false,
): Promise<boolean> {
  return onOwnConnection(knex, settings, async (db) => {
    const [row] = await db.rows<{ present: boolean; comment: string | null }>(
      `SELECT to_regclass(?) IS NOT NULL AS present,
              obj_description(to_regclass(?), 'pg_class') AS comment`,
      [index.name, index.name],
    );
    if (!row?.present || (!anyOwner && row.comment !== OWNERSHIP_MARK)) return false;
    await tryUntilLocked(db, settings, index.table, () =>
      db.rows(`DROP INDEX CONCURRENTLY IF EXISTS ${index.name}`),
    );
    return true;
  });
}

import type { LockHolder } from '../errors/backfill-locked-error';
import { BackfillLockedError } from '../errors/backfill-locked-error';
import type { SqlRunner } from './sql-runner';

/**
 * The advisory lock every backfill and rollback holds while it works: 'goal' in ASCII. It is a
 * session lock, so PostgreSQL releases it when the holding connection ends, however it ends.
 */
export const BACKFILL_LOCK_KEY = 0x676f616c;

/**
 * The lock a run's extra workers hold shared for as long as they have a connection: 'gowk' in
 * ASCII. Taking the backfill lock also waits until nobody holds this one, so a run whose lock
 * holder lost its connection cannot be joined by a second run while its other workers still
 * finish their last page.
 */
export const WORKERS_LOCK_KEY = 0x676f776b;

const POLL_INTERVAL_MS = 250;

/** Waits `ms`, or less when `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

async function tryLock(db: SqlRunner): Promise<boolean> {
  const [row] = await db.rows<{ locked: boolean; workers_free: boolean | null }>(
    `SELECT locked,
            CASE WHEN locked THEN pg_try_advisory_lock(CAST(? AS bigint)) END AS workers_free
       FROM (SELECT pg_try_advisory_lock(CAST(? AS bigint)) AS locked) AS l`,
    [WORKERS_LOCK_KEY, BACKFILL_LOCK_KEY],
  );
  if (row?.locked !== true) return false;
  if (row.workers_free === true) {
    await db.rows('SELECT pg_advisory_unlock(CAST(? AS bigint))', [WORKERS_LOCK_KEY]);
    return true;
  }
  // Workers of an earlier run are still finishing a page: not free yet.
  await releaseBackfillLock(db);
  return false;
}

/** Marks `db` as a worker of the run holding the backfill lock (see {@link WORKERS_LOCK_KEY}). */
export async function joinAsWorker(db: SqlRunner): Promise<void> {
  await db.rows('SELECT pg_advisory_lock_shared(CAST(? AS bigint))', [WORKERS_LOCK_KEY]);
}

/** Gives back what {@link joinAsWorker} took. */
export async function leaveAsWorker(db: SqlRunner): Promise<void> {
  await db.rows('SELECT pg_advisory_unlock_shared(CAST(? AS bigint))', [WORKERS_LOCK_KEY]);
}

/**
 * The session holding the backfill lock in this database (advisory locks are per database), or
 * else a worker of a run still holding the workers' lock, if any.
 */
export async function findLockHolderPid(
  db: SqlRunner,
): Promise<{ pid: number; applicationName: string | null } | null> {
  const [row] = await db.rows<{ pid: number; application_name: string | null }>(
    `SELECT l.pid, a.application_name
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = 0 AND l.objid IN (CAST(? AS oid), CAST(? AS oid)) AND l.objsubid = 1
      ORDER BY l.objid = CAST(? AS oid) DESC
      LIMIT 1`,
    [BACKFILL_LOCK_KEY, WORKERS_LOCK_KEY, BACKFILL_LOCK_KEY],
  );
  return row ? { pid: row.pid, applicationName: row.application_name } : null;
}

export interface AcquireLockOptions {
  /** How long to wait for a holder to finish before giving up. 0 tries once. */
  waitMs: number;
  /** Describes the run that holds the lock, for the error message. */
  describeHolder: () => Promise<Omit<LockHolder, 'pid' | 'applicationName'>>;
  /** Stops the wait: once aborted, the lock is never taken, even when it frees. */
  signal?: AbortSignal | undefined;
}

/**
 * Takes the backfill lock on `db`, polling until `waitMs` has passed. Throws
 * {@link BackfillLockedError} naming the holder when the wait runs out, or at once when
 * `signal` aborts, before or during the wait: an interrupted command never goes on to work.
 */
export async function acquireBackfillLock(
  db: SqlRunner,
  options: AcquireLockOptions,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (!options.signal?.aborted && (await tryLock(db))) {
      if (!options.signal?.aborted) return;
      // Aborted while the lock was being taken: give it back and stop.
      await releaseBackfillLock(db);
    }
    const waited = Date.now() - started;
    if (waited >= options.waitMs || options.signal?.aborted) {
      const pid = await findLockHolderPid(db);
      const run = await options.describeHolder();
      throw new BackfillLockedError(
        { pid: pid?.pid ?? null, applicationName: pid?.applicationName ?? null, ...run },
        waited,
      );
    }
    await sleep(Math.min(POLL_INTERVAL_MS, options.waitMs - waited), options.signal);
  }
}

/** Releases the backfill lock held by `db`'s session. */
export async function releaseBackfillLock(db: SqlRunner): Promise<void> {
  await db.rows('SELECT pg_advisory_unlock(CAST(? AS bigint))', [BACKFILL_LOCK_KEY]);
}

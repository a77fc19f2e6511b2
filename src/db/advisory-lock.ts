import { BackfillLockedError, type LockHolder } from '../errors';
import type { SqlRunner } from './sql-runner';

/**
 * The advisory lock every backfill and rollback holds while it works: 'goal' in ASCII. It is a
 * session lock, so PostgreSQL releases it when the holding connection ends, however it ends.
 */
export const BACKFILL_LOCK_KEY = 0x676f616c;

/**
 * The lock a run's extra workers hold shared for as long as they have a connection: 'gowk' in
 * ASCII. Taking the backfill lock also waits until no session of another run holds this one, so
 * a run whose lock holder lost its connection cannot be joined by a second run while its other
 * workers go on; its own holder, reconnecting, knows them ({@link RunCrew}) and takes it back.
 */
export const WORKERS_LOCK_KEY = 0x676f776b;

const POLL_INTERVAL_MS = 250;

/**
 * How long a connection that replaces a lost one waits at least to hold its run's locks again:
 * its old session may still be ending, and another run's wait may hold the lock for a moment.
 */
export const RECONNECT_LOCK_WAIT_MS = 10_000;

/**
 * A backend named by its pid and its start time, so that a pid the server hands out again never
 * passes for it. NULL for a backend of another role, whose start time is not visible. The time
 * is whole microseconds, so no setting (extra_float_digits, DateStyle) changes how it reads.
 */
const IDENTITY_SQL = (pid: string, backendStart: string) =>
  `CAST(${pid} AS text) || '@' ||
   CAST(CAST(extract(epoch FROM ${backendStart}) * 1000000 AS bigint) AS text)`;

/**
 * The sessions of one invocation of a run that may hold its locks: its lock holder's and its
 * workers' current connections. A holder of either lock that is not in it belongs to another
 * run, even one of the same run id (an earlier invocation of a resumed run): a straggler of that
 * run is never taken for one of this run's own workers. A connection leaves the crew when it is
 * lost, so its old session, until it has ended, counts as another run's too.
 */
export class RunCrew {
  private readonly members = new Set<string>();

  /** Adds `db`'s session; call it before that session takes a lock. Returns its identity. */
  async enlist(db: SqlRunner): Promise<string> {
    const [row] = await db.rows<{ identity: string }>(
      `SELECT ${IDENTITY_SQL('pid', 'backend_start')} AS identity
         FROM pg_stat_activity WHERE pid = pg_backend_pid()`,
    );
    if (row === undefined) throw new Error('the session is missing from pg_stat_activity');
    this.members.add(row.identity);
    return row.identity;
  }

  /** Takes a lost session out; its locks count as another run's from now on. */
  discharge(identity: string): void {
    this.members.delete(identity);
  }

  /** The identities, as the one bound parameter {@link FOREIGN_HOLDERS_SQL} splits. */
  get binding(): string {
    return [...this.members].join(',');
  }
}

/**
 * Sessions holding one of the locks in `keys` that are not in the crew, the backfill lock's
 * holder first. Bindings: the keys (two), the crew, the backfill key.
 */
const FOREIGN_HOLDERS_SQL = `
  SELECT l.pid, a.application_name
    FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
   WHERE l.locktype = 'advisory' AND l.granted
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND l.classid = 0 AND l.objid IN (CAST(? AS oid), CAST(? AS oid)) AND l.objsubid = 1
     AND NOT COALESCE(${IDENTITY_SQL('l.pid', 'a.backend_start')} = ANY(string_to_array(?, ',')), false)
   ORDER BY l.objid = CAST(? AS oid) DESC, l.pid`;

interface ForeignHolder {
  pid: number;
  application_name: string | null;
}

function foreignHolders(
  db: SqlRunner,
  crew: RunCrew,
  keys: readonly [number, number],
): Promise<ForeignHolder[]> {
  return db.rows<ForeignHolder>(FOREIGN_HOLDERS_SQL, [...keys, crew.binding, BACKFILL_LOCK_KEY]);
}

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

const WORKERS_ONLY = [WORKERS_LOCK_KEY, WORKERS_LOCK_KEY] as const;
const BOTH_LOCKS = [BACKFILL_LOCK_KEY, WORKERS_LOCK_KEY] as const;

/**
 * Takes the backfill lock when no session outside the crew holds the workers' lock. While
 * another run's workers finish a page the backfill lock is not even tried, so a run that waits
 * never holds it for a moment that a worker rejoining its own run would take for another run.
 */
async function tryLock(db: SqlRunner, crew: RunCrew): Promise<boolean> {
  const [row] = await db.rows<{ locked: boolean }>(
    `SELECT CASE WHEN NOT EXISTS (${FOREIGN_HOLDERS_SQL})
                 THEN pg_try_advisory_lock(CAST(? AS bigint)) ELSE false END AS locked`,
    [...WORKERS_ONLY, crew.binding, BACKFILL_LOCK_KEY, BACKFILL_LOCK_KEY],
  );
  if (row?.locked !== true) return false;
  // A worker of another run may have rejoined between the look and the lock. It looks for this
  // lock once it holds the workers' lock, so one of the two always sees the other.
  if ((await foreignHolders(db, crew, WORKERS_ONLY)).length === 0) return true;
  await releaseBackfillLock(db);
  return false;
}

/** How long to wait for another run's sessions, and how to describe that run. */
export interface LockWaitOptions {
  /** How long to wait for a holder to finish before giving up. 0 tries once. */
  waitMs: number;
  /** Describes the run that holds the lock, for the error message. */
  describeHolder: () => Promise<Omit<LockHolder, 'pid' | 'applicationName'>>;
}

async function lockedError(
  db: SqlRunner,
  crew: RunCrew,
  options: LockWaitOptions,
  waitedMs: number,
): Promise<BackfillLockedError> {
  const [holder] = await foreignHolders(db, crew, BOTH_LOCKS);
  const run = await options.describeHolder();
  return new BackfillLockedError(
    { pid: holder?.pid ?? null, applicationName: holder?.application_name ?? null, ...run },
    waitedMs,
  );
}

/**
 * Runs `attempt` until it takes its lock, every {@link POLL_INTERVAL_MS} for `waitMs`; then, or
 * at once when `signal` aborts, throws {@link BackfillLockedError} naming the holder.
 */
async function pollForLock(
  db: SqlRunner,
  crew: RunCrew,
  options: LockWaitOptions,
  signal: AbortSignal | undefined,
  attempt: () => Promise<boolean>,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (!signal?.aborted && (await attempt())) return;
    const waited = Date.now() - started;
    if (waited >= options.waitMs || signal?.aborted) {
      throw await lockedError(db, crew, options, waited);
    }
    await sleep(Math.min(POLL_INTERVAL_MS, options.waitMs - waited), signal);
  }
}

/**
 * Makes `db`, whose session is in `crew`, a worker of the run whose lock holder is in `crew` too
 * (see {@link WORKERS_LOCK_KEY}). It holds the workers' lock shared, then checks that no session
 * outside the crew holds either lock: a worker that rejoins after losing its connection never
 * works beside another run that started meanwhile. While one does, it lets go and looks again;
 * after `waitMs` it throws {@link BackfillLockedError}, holding nothing.
 */
export async function joinAsWorker(
  db: SqlRunner,
  crew: RunCrew,
  options: LockWaitOptions,
): Promise<void> {
  await pollForLock(db, crew, options, undefined, async () => {
    await db.rows('SELECT pg_advisory_lock_shared(CAST(? AS bigint))', [WORKERS_LOCK_KEY]);
    if ((await foreignHolders(db, crew, BOTH_LOCKS)).length === 0) return true;
    // Letting go while it waits keeps it from blocking the other run's own workers in turn.
    await leaveAsWorker(db);
    return false;
  });
}

/** Gives back what {@link joinAsWorker} took. */
export async function leaveAsWorker(db: SqlRunner): Promise<void> {
  await db.rows('SELECT pg_advisory_unlock_shared(CAST(? AS bigint))', [WORKERS_LOCK_KEY]);
}

/**
 * Ends the session `identity` names, if the server still has it: a connection the run lost may
 * be gone only on this side (a network fault), its session still holding a lock or even about
 * to commit a page the run is going to read again.
 */
export async function endLostSession(db: SqlRunner, identity: string): Promise<void> {
  await db.rows(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE ${IDENTITY_SQL('pid', 'backend_start')} = ?`,
    [identity],
  );
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

export interface AcquireLockOptions extends LockWaitOptions {
  /** Stops the wait: once aborted, the lock is never taken, even when it frees. */
  signal?: AbortSignal | undefined;
}

/**
 * Takes the backfill lock on `db`, whose session is in `crew`, once no session outside the crew
 * holds it or the workers' lock, polling until `waitMs` has passed. Throws
 * {@link BackfillLockedError} naming the holder when the wait runs out, or at once when
 * `signal` aborts, before or during the wait: an interrupted command never goes on to work.
 */
export async function acquireBackfillLock(
  db: SqlRunner,
  crew: RunCrew,
  options: AcquireLockOptions,
): Promise<void> {
  const { signal } = options;
  await pollForLock(db, crew, options, signal, async () => {
    if (!(await tryLock(db, crew))) return false;
    if (!signal?.aborted) return true;
    // Aborted while the lock was being taken: give it back and stop.
    await releaseBackfillLock(db);
    return false;
  });
}

/** Releases the backfill lock held by `db`'s session. */
export async function releaseBackfillLock(db: SqlRunner): Promise<void> {
  await db.rows('SELECT pg_advisory_unlock(CAST(? AS bigint))', [BACKFILL_LOCK_KEY]);
}

import type { Knex } from 'knex';
import type { Logger } from '../logging';
import {
  type AcquireLockOptions,
  acquireBackfillLock,
  endLostSession,
  joinAsWorker,
  leaveAsWorker,
  RECONNECT_LOCK_WAIT_MS,
  RunCrew,
  releaseBackfillLock,
} from './advisory-lock';
import { bestEffort } from './failures';
import { queryRows, type SqlRunner } from './sql-runner';

/** The statement runner every layer above uses, from the lowest layer (src/db/sql-runner.ts). */
export { queryRows, type SqlRunner, sqlRunner, toCount } from './sql-runner';

// ---- One connection held for a run --------------------------------------------------------

/**
 * One pooled connection held for the length of a backfill. Session settings, the advisory lock
 * and every statement of the run share it, so the lock dies with the connection and the run
 * needs a single connection from the pool (PGlite has only one).
 */
export class PinnedConnection implements SqlRunner {
  constructor(
    private readonly knex: Knex,
    private readonly connection: unknown,
  ) {}

  async rows<Row>(sql: string, bindings: readonly unknown[] = []): Promise<Row[]> {
    const query = this.knex.raw(sql, bindings as Knex.RawBinding[]).connection(this.connection);
    return queryRows<Row>(await query);
  }

  /** Runs `work` in a transaction on this connection; it commits when `work` resolves. */
  transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.knex.transaction(work, { connection: this.connection });
  }
}

// ---- Session settings ----------------------------------------------------------------------

/** Session settings a backfill applies to its connection for as long as it holds it. */
export interface SessionSettings {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  applicationName: string;
}

/**
 * Settings a database or role can carry (`ALTER DATABASE … SET`) that change how dates and
 * intervals read as text. The backfill pins them, so that no such setting changes a text it
 * reads back (the driver parses dates in ISO form).
 *
 * `TimeZone` is not among them: it changes no text the backfill reads back (its cursor's date
 * is written and compared in the column's own type, src/backfill/reading.ts), and it is the one
 * setting that changes what is stored. The goals' `updated_at`, when it is a `timestamp without
 * time zone`, and whatever the app's own triggers stamp with `now()` while the backfill writes,
 * must read the app's wall clock, so the connection keeps the app's zone.
 *
 * Each one's value before the pin is kept in a custom setting of its own (`saved`) for as long
 * as the backfill holds the connection, and put back when it lets go.
 */
const PINNED_FORMATS = [
  { name: 'DateStyle', pinned: 'ISO, YMD', saved: 'goal_backfill.app_datestyle' },
  { name: 'IntervalStyle', pinned: 'postgres', saved: 'goal_backfill.app_intervalstyle' },
] as const;

/** SQL giving what `saved` keeps, or the current value of `name` when nothing is kept. */
function savedOrCurrent(format: (typeof PINNED_FORMATS)[number]): string {
  return `coalesce(nullif(current_setting('${format.saved}', true), ''), current_setting('${format.name}'))`;
}

/**
 * SQL giving the app's time zone: the connection's `TimeZone`, which the backfill leaves as the
 * app has it (the server's, the database's or role's `ALTER … SET`, the connection's own). The
 * backfill reads it where a date crosses between a wall clock (`timestamp without time zone`)
 * and an instant (`timestamptz`), so that the app sees the same wall clock on both sides.
 */
export const APP_TIME_ZONE_SQL = "current_setting('TimeZone')";

/** Applies the settings to the connection's session (not just one transaction). */
export async function applySessionSettings(
  db: SqlRunner,
  settings: SessionSettings,
): Promise<void> {
  // synchronous_commit is left as the database has it (on by default): a page's commit is
  // durable when it returns. Off lost whole runs on PGlite, which has no WAL writer and is often
  // left without a shutdown (the Knex CLI exits without closing it); on a server it saved no
  // measurable time (100k sessions: 15.2 s on, 14.6 s off, means of five).
  // The app's formats are kept before they are pinned, in a statement of their own. What is
  // already kept on this connection (pinned, and not put back since) stays.
  await db.rows(
    `SELECT set_config('statement_timeout', ?, false), set_config('lock_timeout', ?, false),
            set_config('application_name', ?, false),
            ${PINNED_FORMATS.map((format) => `set_config('${format.saved}', ${savedOrCurrent(format)}, false)`).join(', ')}`,
    [String(settings.statementTimeoutMs), String(settings.lockTimeoutMs), settings.applicationName],
  );
  await db.rows(
    `SELECT ${PINNED_FORMATS.map(() => 'set_config(?, ?, false)').join(', ')}`,
    PINNED_FORMATS.flatMap((format) => [format.name, format.pinned]),
  );
}

/**
 * Returns the session to the settings it had before, so the pool gets back the connection the
 * app had: the timeouts and name reset, the date formats as they were (an app's own `SET` too).
 */
export async function resetSessionSettings(db: SqlRunner): Promise<void> {
  await db.rows('RESET statement_timeout');
  await db.rows('RESET lock_timeout');
  await db.rows('RESET application_name');
  for (const format of PINNED_FORMATS) {
    const [row] = await db.rows<{ saved: string | null }>(
      "SELECT nullif(current_setting(?, true), '') AS saved",
      [format.saved],
    );
    if (row?.saved) await db.rows('SELECT set_config(?, ?, false)', [format.name, row.saved]);
    else await db.rows(`RESET ${format.name}`);
  }
  // Last: while a format may still be pinned, the next run must find the app's value kept.
  for (const format of PINNED_FORMATS) await db.rows(`RESET ${format.saved}`);
}

/** Where the app's search_path is kept while a connection resolves names in one schema. */
const SAVED_SEARCH_PATH = 'goal_backfill.app_search_path';

/**
 * Makes the session resolve every unqualified name in `schema` alone (PostgreSQL still looks in
 * pg_catalog first), keeping the app's search_path in a custom setting of its own, as the
 * pinned formats are kept, until {@link restoreSearchPath}. What is already kept stays, so a
 * connection pinned twice still gets the app's value back. The name is quoted by the server,
 * so any spelling the catalog holds works.
 */
export async function pinSearchPath(db: SqlRunner, schema: string): Promise<void> {
  await db.rows(
    `SELECT set_config('${SAVED_SEARCH_PATH}',
                       coalesce(nullif(current_setting('${SAVED_SEARCH_PATH}', true), ''),
                                current_setting('search_path')), false),
            set_config('search_path', quote_ident(?), false)`,
    [schema],
  );
}

/**
 * Gives the session back the search_path it had before {@link pinSearchPath} (the app's
 * knexfile `searchPath`, its own `SET`, a role's default), in one statement; a session with
 * nothing kept is left as it is.
 */
export async function restoreSearchPath(db: SqlRunner): Promise<void> {
  await db.rows(
    `SELECT CASE WHEN saved <> '' THEN set_config('search_path', saved, false) END,
            set_config('${SAVED_SEARCH_PATH}', '', false)
       FROM (SELECT coalesce(current_setting('${SAVED_SEARCH_PATH}', true), '') AS saved) AS kept`,
  );
}

// ---- The run's connections -----------------------------------------------------------------

/**
 * What a {@link RunConnection} is to its run:
 * - `lead`: the run's own connection, which holds the backfill lock (a rollback's too);
 * - `worker`: one more connection for a parallel worker of the run, which holds the workers'
 *   lock shared, so no other run starts before it has let go; the lead holds the run's lock for
 *   every worker.
 */
export type ConnectionRole = 'lead' | 'worker';

/** How a {@link RunConnection} is set up, each time it connects. */
export interface RunConnectionOptions {
  settings: SessionSettings;
  lock: Omit<AcquireLockOptions, 'describeHolder'> & {
    describeHolder: (db: PinnedConnection) => ReturnType<AcquireLockOptions['describeHolder']>;
  };
  /** Checks the lead runs once connected, before the lock (for instance that the schema exists). */
  beforeLock?: (db: PinnedConnection) => Promise<void>;
  logger: Logger;
}

/**
 * One pooled connection of a run, with the run's session settings and, by its
 * {@link ConnectionRole}, the run's lock (the lead, {@link RunConnection.open}) or the workers'
 * lock (a worker, {@link RunConnection.openWorker}). Every connection of one invocation is in
 * its crew, so the lead takes the lock back while the workers hold theirs, and they rejoin while
 * it holds it. When the connection is lost (a terminated backend, a reset), {@link reopen} takes a
 * fresh one from the pool and takes its lock again: PostgreSQL released it when the old session
 * ended.
 */
export class RunConnection {
  private constructor(
    private readonly knex: Knex,
    private readonly options: RunConnectionOptions,
    readonly role: ConnectionRole,
    private readonly crew: RunCrew,
    private raw: unknown,
    private pinned: PinnedConnection,
  ) {}

  private identity: string | null = null;

  /** Opens the run's lead: connects, applies the settings and takes the backfill lock. */
  static open(knex: Knex, options: RunConnectionOptions): Promise<RunConnection> {
    return RunConnection.connect(knex, options, 'lead', new RunCrew());
  }

  /** Connects as `role`, and gives the connection back to the pool on failure. */
  private static async connect(
    knex: Knex,
    options: RunConnectionOptions,
    role: ConnectionRole,
    crew: RunCrew,
  ): Promise<RunConnection> {
    const raw: unknown = await knex.client.acquireConnection();
    const connection = new RunConnection(
      knex,
      options,
      role,
      crew,
      raw,
      new PinnedConnection(knex, raw),
    );
    try {
      await connection.prepare('open');
    } catch (err) {
      connection.leaveCrew();
      if (role === 'lead') {
        await bestEffort(options.logger, 'connection.reset', () =>
          resetSessionSettings(connection.pinned),
        );
      }
      await knex.client.releaseConnection(raw);
      throw err;
    }
    return connection;
  }

  private async prepare(stage: 'open' | 'reopen'): Promise<void> {
    const { options, pinned: db, crew } = this;
    const { lock } = options;
    const describeHolder = () => lock.describeHolder(db);
    if (this.role === 'worker') {
      await applySessionSettings(db, options.settings);
      this.identity = await crew.enlist(db);
      await joinAsWorker(db, crew, { waitMs: lock.waitMs, describeHolder });
      return;
    }
    await options.beforeLock?.(db);
    await applySessionSettings(db, options.settings);
    this.identity = await crew.enlist(db);
    await acquireBackfillLock(db, crew, {
      ...lock,
      // A signal stops the first wait, before anything is written. A run that lost its
      // connection mid-way retakes the lock regardless, to commit its page and checkpoint, and
      // waits a little for its old session to end and for another run's try to let go.
      ...(stage === 'open'
        ? {}
        : { signal: undefined, waitMs: Math.max(lock.waitMs, RECONNECT_LOCK_WAIT_MS) }),
      describeHolder,
    });
  }

  /** The connection to run statements on. */
  get db(): PinnedConnection {
    return this.pinned;
  }

  /**
   * Opens a worker of this run with `settings`: it holds the workers' lock shared, waiting for
   * another run's sessions at least as long as a reconnect does.
   */
  openWorker(settings: SessionSettings): Promise<RunConnection> {
    const { lock, logger } = this.options;
    return RunConnection.connect(
      this.knex,
      {
        settings,
        logger,
        lock: {
          waitMs: Math.max(lock.waitMs, RECONNECT_LOCK_WAIT_MS),
          describeHolder: lock.describeHolder,
        },
      },
      'worker',
      this.crew,
    );
  }

  /**
   * Takes the session out of the run's crew. The pool may hand its connection to another run
   * (in this process, on the same Knex), whose locks must never pass for this run's.
   */
  private leaveCrew(): string | null {
    const { identity } = this;
    if (identity !== null) this.crew.discharge(identity);
    this.identity = null;
    return identity;
  }

  /**
   * Replaces a lost connection with a fresh one that holds its lock again. The old session is
   * ended if the server still has it (a fault on the network's side only), and counts as another
   * run's until its locks are gone: by then its transaction has ended too, so a page it was
   * committing cannot land after the lane was read again from the run record.
   */
  async reopen(): Promise<void> {
    const { logger } = this.options;
    const lost = this.leaveCrew();
    await bestEffort(logger, 'connection.release', () =>
      this.knex.client.releaseConnection(this.raw),
    );
    this.raw = await this.knex.client.acquireConnection();
    this.pinned = new PinnedConnection(this.knex, this.raw);
    if (lost !== null) {
      await bestEffort(logger, 'connection.end_lost', () => endLostSession(this.pinned, lost));
    }
    await this.prepare('reopen');
  }

  /** Lets go of its lock, resets the session and gives the connection back to the pool. */
  async close(): Promise<void> {
    const { logger } = this.options;
    const release = this.role === 'lead' ? releaseBackfillLock : leaveAsWorker;
    await bestEffort(logger, 'connection.lock_release', () => release(this.pinned));
    await bestEffort(logger, 'connection.reset', () => resetSessionSettings(this.pinned));
    this.leaveCrew();
    await this.knex.client.releaseConnection(this.raw);
  }
}

import type { Knex } from 'knex';
import { bestEffort } from './best-effort';
import type { Logger } from '../logging/logger';
import {
  type AcquireLockOptions,
  acquireBackfillLock,
  endLostSession,
  RECONNECT_LOCK_WAIT_MS,
  releaseBackfillLock,
  RunCrew,
} from './advisory-lock';
import { PinnedConnection } from './pinned-connection';
import {
  applySessionSettings,
  resetSessionSettings,
  type SessionSettings,
} from './session-settings';
import { WorkerConnection } from './worker-connection';

/** How a {@link LockedConnection} is set up, each time it connects. */
export interface LockedConnectionOptions {
  settings: SessionSettings;
  lock: Omit<AcquireLockOptions, 'describeHolder'> & {
    describeHolder: (db: PinnedConnection) => ReturnType<AcquireLockOptions['describeHolder']>;
  };
  /** Checks to run once connected, before the lock (for instance that the schema exists). */
  beforeLock?: (db: PinnedConnection) => Promise<void>;
  logger: Logger;
}

/**
 * One pooled connection that holds the backfill lock and the backfill's session settings. When
 * the connection is lost (a terminated backend, a reset), {@link reopen} takes a fresh one from
 * the pool and takes the lock again: PostgreSQL released it when the old session ended. The
 * workers it opens ({@link openWorker}) are in its crew, so it takes the lock back while they
 * hold theirs, and they rejoin while it holds it.
 */
export class LockedConnection {
  private readonly crew = new RunCrew();

  private constructor(
    private readonly knex: Knex,
    private readonly options: LockedConnectionOptions,
    private raw: unknown,
    private pinned: PinnedConnection,
    private identity: string | null,
  ) {}

  /** Connects, applies the settings and takes the lock; gives the connection back on failure. */
  static async open(knex: Knex, options: LockedConnectionOptions): Promise<LockedConnection> {
    const raw: unknown = await knex.client.acquireConnection();
    const pinned = new PinnedConnection(knex, raw);
    const connection = new LockedConnection(knex, options, raw, pinned, null);
    try {
      await connection.prepare('open');
    } catch (err) {
      await bestEffort(options.logger, 'connection.reset', () => resetSessionSettings(pinned));
      await knex.client.releaseConnection(raw);
      throw err;
    }
    return connection;
  }

  private async prepare(stage: 'open' | 'reopen'): Promise<void> {
    const { options, pinned: db } = this;
    await options.beforeLock?.(db);
    await applySessionSettings(db, options.settings);
    this.identity = await this.crew.enlist(db);
    await acquireBackfillLock(db, this.crew, {
      ...options.lock,
      // A signal stops the first wait, before anything is written. A run that lost its
      // connection mid-way retakes the lock regardless, to commit its page and checkpoint, and
      // waits a little for its old session to end and for another run's try to let go.
      ...(stage === 'open'
        ? {}
        : { signal: undefined, waitMs: Math.max(options.lock.waitMs, RECONNECT_LOCK_WAIT_MS) }),
      describeHolder: () => options.lock.describeHolder(db),
    });
  }

  /** The connection to run statements on. */
  get db(): PinnedConnection {
    return this.pinned;
  }

  /**
   * Replaces a lost connection with a fresh one that holds the lock again. The old session is
   * ended if the server still has it (a fault on the network's side only), and counts as another
   * run's until it has let go of the lock.
   */
  async reopen(): Promise<void> {
    const lost = this.identity;
    if (lost !== null) this.crew.discharge(lost);
    await bestEffort(this.options.logger, 'connection.release', () =>
      this.knex.client.releaseConnection(this.raw),
    );
    this.raw = await this.knex.client.acquireConnection();
    this.pinned = new PinnedConnection(this.knex, this.raw);
    this.identity = null;
    if (lost !== null) {
      await bestEffort(this.options.logger, 'connection.end_lost', () =>
        endLostSession(this.pinned, lost),
      );
    }
    await this.prepare('reopen');
  }

  /**
   * Opens one more connection for a worker of this run, with `settings`; it holds the workers'
   * lock shared (see {@link WorkerConnection}).
   */
  openWorker(settings: SessionSettings): Promise<WorkerConnection> {
    const { lock, logger } = this.options;
    return WorkerConnection.open(this.knex, {
      settings,
      logger,
      crew: this.crew,
      lock: {
        waitMs: Math.max(lock.waitMs, RECONNECT_LOCK_WAIT_MS),
        describeHolder: lock.describeHolder,
      },
    });
  }

  /** Releases the lock, resets the session and gives the connection back to the pool. */
  async close(): Promise<void> {
    const { logger } = this.options;
    await bestEffort(logger, 'connection.lock_release', () => releaseBackfillLock(this.pinned));
    await bestEffort(logger, 'connection.reset', () => resetSessionSettings(this.pinned));
    await this.knex.client.releaseConnection(this.raw);
  }
}

import type { Knex } from 'knex';
import { bestEffort } from './best-effort';
import type { Logger } from '../logging/logger';
import { type AcquireLockOptions, acquireBackfillLock, releaseBackfillLock } from './advisory-lock';
import { PinnedConnection } from './pinned-connection';
import {
  applySessionSettings,
  resetSessionSettings,
  type SessionSettings,
} from './session-settings';

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
 * the pool and takes the lock again: PostgreSQL released it when the old session ended.
 */
export class LockedConnection {
  private constructor(
    private readonly knex: Knex,
    private readonly options: LockedConnectionOptions,
    private raw: unknown,
    private pinned: PinnedConnection,
  ) {}

  /** Connects, applies the settings and takes the lock; gives the connection back on failure. */
  static async open(knex: Knex, options: LockedConnectionOptions): Promise<LockedConnection> {
    const raw: unknown = await knex.client.acquireConnection();
    const pinned = new PinnedConnection(knex, raw);
    try {
      await LockedConnection.prepare(pinned, options);
    } catch (err) {
      await bestEffort(options.logger, 'connection.reset', () => resetSessionSettings(pinned));
      await knex.client.releaseConnection(raw);
      throw err;
    }
    return new LockedConnection(knex, options, raw, pinned);
  }

  private static async prepare(
    db: PinnedConnection,
    options: LockedConnectionOptions,
    stage: 'open' | 'reopen' = 'open',
  ): Promise<void> {
    await options.beforeLock?.(db);
    await applySessionSettings(db, options.settings);
    await acquireBackfillLock(db, {
      ...options.lock,
      // A signal stops the first wait, before anything is written. A run that lost its
      // connection mid-way retakes the lock regardless, to commit its page and checkpoint.
      signal: stage === 'open' ? options.lock.signal : undefined,
      describeHolder: () => options.lock.describeHolder(db),
    });
  }

  /** The connection to run statements on. */
  get db(): PinnedConnection {
    return this.pinned;
  }

  /** Replaces a lost connection with a fresh one that holds the lock again. */
  async reopen(): Promise<void> {
    await bestEffort(this.options.logger, 'connection.release', () =>
      this.knex.client.releaseConnection(this.raw),
    );
    const raw: unknown = await this.knex.client.acquireConnection();
    const pinned = new PinnedConnection(this.knex, raw);
    this.raw = raw;
    this.pinned = pinned;
    await LockedConnection.prepare(pinned, this.options, 'reopen');
  }

  /** Releases the lock, resets the session and gives the connection back to the pool. */
  async close(): Promise<void> {
    const { logger } = this.options;
    await bestEffort(logger, 'connection.lock_release', () => releaseBackfillLock(this.pinned));
    await bestEffort(logger, 'connection.reset', () => resetSessionSettings(this.pinned));
    await this.knex.client.releaseConnection(this.raw);
  }
}

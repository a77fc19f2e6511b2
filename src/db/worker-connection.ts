import type { Knex } from 'knex';
import { joinAsWorker, leaveAsWorker } from './advisory-lock';
import { bestEffort } from './best-effort';
import type { Logger } from '../logging/logger';
import { PinnedConnection } from './pinned-connection';
import {
  applySessionSettings,
  resetSessionSettings,
  type SessionSettings,
} from './session-settings';

/**
 * One more pooled connection for a parallel worker of a run, with the run's session settings
 * but not its lock: the run's own {@link LockedConnection} holds that for every worker. It holds
 * the workers' lock shared instead, so no other run starts before it has let go. When the
 * connection is lost, {@link reopen} takes a fresh one from the pool.
 */
export class WorkerConnection {
  private constructor(
    private readonly knex: Knex,
    private readonly settings: SessionSettings,
    private readonly logger: Logger,
    private raw: unknown,
    private pinned: PinnedConnection,
  ) {}

  /** Takes a connection from the pool and applies the settings; gives it back on failure. */
  static async open(
    knex: Knex,
    settings: SessionSettings,
    logger: Logger,
  ): Promise<WorkerConnection> {
    const raw: unknown = await knex.client.acquireConnection();
    const pinned = new PinnedConnection(knex, raw);
    try {
      await applySessionSettings(pinned, settings);
      await joinAsWorker(pinned);
    } catch (err) {
      await knex.client.releaseConnection(raw);
      throw err;
    }
    return new WorkerConnection(knex, settings, logger, raw, pinned);
  }

  /** The connection to run statements on. */
  get db(): PinnedConnection {
    return this.pinned;
  }

  /** Replaces a lost connection with a fresh one. */
  async reopen(): Promise<void> {
    await bestEffort(this.logger, 'connection.release', () =>
      this.knex.client.releaseConnection(this.raw),
    );
    const raw: unknown = await this.knex.client.acquireConnection();
    this.raw = raw;
    this.pinned = new PinnedConnection(this.knex, raw);
    await applySessionSettings(this.pinned, this.settings);
    await joinAsWorker(this.pinned);
  }

  /** Leaves the run's workers, resets the session and gives the connection back to the pool. */
  async close(): Promise<void> {
    await bestEffort(this.logger, 'connection.lock_release', () => leaveAsWorker(this.pinned));
    await bestEffort(this.logger, 'connection.reset', () => resetSessionSettings(this.pinned));
    await this.knex.client.releaseConnection(this.raw);
  }
}

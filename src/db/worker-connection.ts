import type { Knex } from 'knex';
import {
  endLostSession,
  joinAsWorker,
  leaveAsWorker,
  type LockWaitOptions,
  type RunCrew,
} from './advisory-lock';
import { bestEffort } from './best-effort';
import type { Logger } from '../logging/logger';
import { PinnedConnection } from './pinned-connection';
import {
  applySessionSettings,
  resetSessionSettings,
  type SessionSettings,
} from './session-settings';

/** How a {@link WorkerConnection} is set up, each time it connects. */
export interface WorkerConnectionOptions {
  settings: SessionSettings;
  logger: Logger;
  /** The sessions of the run it works for, its lock holder's included. */
  crew: RunCrew;
  /** How long it waits for another run's sessions to let go, and how it names that run. */
  lock: Omit<LockWaitOptions, 'describeHolder'> & {
    describeHolder: (db: PinnedConnection) => ReturnType<LockWaitOptions['describeHolder']>;
  };
}

/**
 * One more pooled connection for a parallel worker of a run, with the run's session settings
 * but not its lock: the run's own {@link LockedConnection} holds that for every worker. It holds
 * the workers' lock shared instead, so no other run starts before it has let go. When the
 * connection is lost, {@link reopen} takes a fresh one from the pool and joins the run again,
 * once no other run's session holds either lock.
 */
export class WorkerConnection {
  private constructor(
    private readonly knex: Knex,
    private readonly options: WorkerConnectionOptions,
    private raw: unknown,
    private pinned: PinnedConnection,
    private identity: string | null,
  ) {}

  /** Takes a connection from the pool, applies the settings and joins; gives it back on failure. */
  static async open(knex: Knex, options: WorkerConnectionOptions): Promise<WorkerConnection> {
    const raw: unknown = await knex.client.acquireConnection();
    const connection = new WorkerConnection(
      knex,
      options,
      raw,
      new PinnedConnection(knex, raw),
      null,
    );
    try {
      await connection.join();
    } catch (err) {
      connection.leaveCrew();
      await knex.client.releaseConnection(raw);
      throw err;
    }
    return connection;
  }

  private async join(): Promise<void> {
    const { options, pinned: db } = this;
    await applySessionSettings(db, options.settings);
    this.identity = await options.crew.enlist(db);
    await joinAsWorker(db, options.crew, {
      waitMs: options.lock.waitMs,
      describeHolder: () => options.lock.describeHolder(db),
    });
  }

  /** The connection to run statements on. */
  get db(): PinnedConnection {
    return this.pinned;
  }

  /**
   * Takes the session out of the run's crew. The pool may hand its connection to another run
   * (in this process, on the same Knex), whose locks must never pass for this run's.
   */
  private leaveCrew(): string | null {
    const { identity } = this;
    if (identity !== null) this.options.crew.discharge(identity);
    this.identity = null;
    return identity;
  }

  /**
   * Replaces a lost connection with a fresh one. The old session is ended if the server still
   * has it, and counts as another run's until its locks are gone: by then its transaction has
   * ended too, so a page it was committing cannot land after the worker has read its lane again
   * from the run record.
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
    await this.join();
  }

  /** Leaves the run's workers, resets the session and gives the connection back to the pool. */
  async close(): Promise<void> {
    const { logger } = this.options;
    await bestEffort(logger, 'connection.lock_release', () => leaveAsWorker(this.pinned));
    await bestEffort(logger, 'connection.reset', () => resetSessionSettings(this.pinned));
    this.leaveCrew();
    await this.knex.client.releaseConnection(this.raw);
  }
}

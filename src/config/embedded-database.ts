import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PGlite, QueryOptions, Results } from '@electric-sql/pglite';
import type { Knex } from 'knex';
import { EmbeddedDatabaseBusyError } from '../errors/embedded-database-busy-error';
import { DataDirectoryLockedError, lockDataDirectory } from './data-directory-lock';

const nextTurnOfEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The embedded database's packages are optional peers of the library: they are loaded here,
 * when an embedded database is asked for, never when this module is imported.
 */
function embeddedPackages() {
  const { PGlite: PGliteClass } =
    require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const dialect = require('knex-pglite') as { default?: unknown };
  const client = dialect.default ?? dialect;

  /**
   * A PGlite database that gives up its data folder's lock file when it closes, and lets the
   * event loop turn before each statement.
   */
  class LockedPGlite extends PGliteClass {
    constructor(
      dataDirectory: string,
      private readonly releaseLock: () => void,
    ) {
      super(dataDirectory);
    }

    // PGlite answers within the same turn, so a long run of statements is one chain of
    // microtasks: without this turn, a Ctrl-C (or any timer) waits until the whole run is over.
    override async query<T>(
      query: string,
      params?: unknown[],
      options?: QueryOptions,
    ): Promise<Results<T>> {
      await nextTurnOfEventLoop();
      return super.query<T>(query, params, options);
    }

    override async close(): Promise<void> {
      try {
        await super.close();
      } finally {
        this.releaseLock();
      }
    }
  }
  return {
    client: client as Knex.Config['client'],
    open: (dataDirectory: string, release: () => void): PGlite =>
      new LockedPGlite(dataDirectory, release),
  };
}

/**
 * How long Knex waits for the embedded database to open. Opening is no network wait: PGlite
 * compiles its WebAssembly, creates a new folder's database or replays the WAL a process left
 * without a shutdown, which took over 15 s on a busy two-core machine.
 */
export const EMBEDDED_OPEN_TIMEOUT_MS = 120_000;

/** The lock file beside a data folder: it names the process that has the folder open. */
export function lockFileOf(dataDirectory: string): string {
  return `${dataDirectory}.pid.lock`;
}

function lockOrRefuse(dataDirectory: string): () => void {
  try {
    return lockDataDirectory(lockFileOf(dataDirectory));
  } catch (cause) {
    if (cause instanceof DataDirectoryLockedError) {
      throw new EmbeddedDatabaseBusyError(dataDirectory, { cause, holderPid: cause.owner?.pid });
    }
    throw cause;
  }
}

/**
 * Knex configuration for an embedded PostgreSQL (PGlite) keeping its files in `dataDirectory`.
 * PGlite has one connection and no guard against two processes sharing a folder (that
 * corrupts it), so the folder is locked here, before Knex exists, and a second process is
 * refused with {@link EmbeddedDatabaseBusyError}. The lock names the owning process and holds
 * for as long as that process lives, however long PGlite keeps its event loop busy (see
 * {@link lockDataDirectory}). Destroying the Knex instance closes PGlite and releases the lock
 * (so does the process ending). A process may end without closing PGlite (the Knex CLI exits
 * that way): every commit has reached the folder's WAL by then, since the backfill never turns
 * synchronous_commit off, and the next open replays it. The parent folder is created, since
 * PGlite does not create it.
 */
export function embeddedKnexConfig(dataDirectory: string): Knex.Config {
  mkdirSync(path.dirname(dataDirectory), { recursive: true });
  const embedded = embeddedPackages();
  const release = lockOrRefuse(dataDirectory);
  const connection = { pglite: embedded.open(dataDirectory, release) };
  const connect = () => connection;
  return {
    client: embedded.client,
    dialect: 'postgres',
    connection: connect as unknown as Knex.Config['connection'],
    acquireConnectionTimeout: EMBEDDED_OPEN_TIMEOUT_MS,
  };
}

/** Knex configuration for a throw-away PGlite database held in memory (for tests). */
export function inMemoryKnexConfig(): Knex.Config {
  return {
    client: embeddedPackages().client,
    dialect: 'postgres',
    connection: {},
  };
}

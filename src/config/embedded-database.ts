import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import lockfile from 'proper-lockfile';
import { EmbeddedDatabaseBusyError } from '../errors/embedded-database-busy-error';

/** How long a lock file may go without a refresh before a new process may take it over. */
const LOCK_STALE_MS = 10_000;

/** A PGlite database that gives up its data folder's lock file when it closes. */
class LockedPGlite extends PGlite {
  constructor(
    dataDirectory: string,
    private readonly releaseLock: () => void,
  ) {
    super(dataDirectory);
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      this.releaseLock();
    }
  }
}

function lockDataDirectory(dataDirectory: string): () => void {
  try {
    return lockfile.lockSync(dataDirectory, {
      realpath: false,
      lockfilePath: `${dataDirectory}.lock`,
      stale: LOCK_STALE_MS,
      update: LOCK_STALE_MS / 4,
    });
  } catch (cause) {
    if ((cause as { code?: unknown }).code === 'ELOCKED') {
      throw new EmbeddedDatabaseBusyError(dataDirectory, { cause });
    }
    throw cause;
  }
}

/**
 * Knex configuration for an embedded PostgreSQL (PGlite) keeping its files in `dataDirectory`.
 * PGlite has one connection and no guard against two processes sharing a folder (rows were
 * lost that way), so the folder is locked with a lock file here, before Knex exists, and a
 * second process is refused with {@link EmbeddedDatabaseBusyError}. Destroying the Knex
 * instance closes PGlite and releases the lock (so does the process ending). The parent
 * folder is created, since PGlite does not create it.
 */
export function embeddedKnexConfig(dataDirectory: string): Knex.Config {
  mkdirSync(path.dirname(dataDirectory), { recursive: true });
  const release = lockDataDirectory(dataDirectory);
  const connection = { pglite: new LockedPGlite(dataDirectory, release) };
  const connect = () => connection;
  return {
    client: ClientPgLite as unknown as Knex.Config['client'],
    dialect: 'postgres',
    connection: connect as unknown as Knex.Config['connection'],
  };
}

/** Knex configuration for a throw-away PGlite database held in memory (for tests). */
export function inMemoryKnexConfig(): Knex.Config {
  return {
    client: ClientPgLite as unknown as Knex.Config['client'],
    dialect: 'postgres',
    connection: {},
  };
}

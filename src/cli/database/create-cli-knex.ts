import { Socket } from 'node:net';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { parseDatabaseUrl } from '../../config/database-url';
import { embeddedDataDirectory } from '../../config/embedded-database';
import { backfillPoolSize, connectionConfigFor } from '../../config/knex-config';
import { asDatabaseUnreachable } from '../../db/connection-failure';
import { inSchema } from '../../db/schema-scope';
import { knexLogHooks } from '../../logging/knex-log-hooks';
import { type Logger, silentLogger } from '../../logging/logger';
import { cliSchema } from '../cli-options';

/** The database the CLI works on. */
export interface CliDatabase {
  knex: Knex;
  /** Where it is, safe to print: `postgres://user@host:port/database`, never the password. */
  target: string;
  /** Destroys the Knex instance, then closes any socket a failed connect left open. */
  close(): Promise<void>;
}

/** What the command will do with the database, when that shapes the connection. */
export interface CliDatabaseOptions {
  /**
   * `--workers`: the pool holds a connection for each, and the embedded database refuses more
   * than one. @default 1
   */
  workers?: number;
  /** Where Knex's own lines go (see knexLogHooks). @default none */
  logger?: Logger;
  /**
   * `--schema`: the library's connections resolve names in it; GOAL_BACKFILL_SCHEMA when not
   * given, else the connection's search_path. @default undefined
   */
  schema?: string;
}

/** How long to wait for a connection before calling the database unreachable. */
export const CONNECT_TIMEOUT_MS = 15_000;

/**
 * The sockets of the CLI's connections. node-postgres does not close the socket of a connection
 * that fails during authentication on its own side (a server asking for a SCRAM password the URL
 * lacks): the server keeps it until its authentication_timeout (60 s by default), and the
 * process waits with it. Once the pool is destroyed, every connection it made is closed, so a
 * socket still open is such a one.
 */
function socketRegistry() {
  const open = new Set<Socket>();
  return {
    socket: (): Socket => {
      const socket = new Socket();
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      return socket;
    },
    closeLeftovers: (): void => {
      for (const socket of open) socket.destroy();
    },
  };
}

/**
 * Builds the CLI's Knex instance: the server at DATABASE_URL, or, when it is unset outside
 * production, the embedded PGlite database the Knex commands use. The caller destroys it.
 * Throws a ConfigError with a one-line fix for a bad URL, for production without one, for
 * more than one worker on the embedded database, or for an embedded database folder that is
 * empty as set, a file, or a folder PGlite must not open.
 */
export function createCliKnex(
  env: Readonly<Record<string, string | undefined>>,
  { workers = 1, logger = silentLogger }: CliDatabaseOptions = {},
): CliDatabase {
  const log = knexLogHooks(logger);
  const environment = env.NODE_ENV === 'production' ? 'production' : 'development';
  // .data/pglite under the working directory, as knexfile.ts uses.
  const defaultFolder = path.join('.data', 'pglite');
  const connection = connectionConfigFor(environment, env, defaultFolder, {
    workers,
    setting: `--workers ${workers}`,
  });
  if (connection.client !== 'pg') {
    // The embedded database's own acquire timeout: opening it is no network wait.
    const knex = knexFactory({ ...connection, log });
    const dataDirectory = embeddedDataDirectory(env, defaultFolder);
    const where = path.relative(process.cwd(), dataDirectory) || dataDirectory;
    return { knex, target: `embedded PGlite in ${where}`, close: () => knex.destroy() };
  }
  const url = parseDatabaseUrl(env.DATABASE_URL);
  const sockets = socketRegistry();
  const knex = knexFactory({
    client: 'pg',
    connection: {
      connectionString: url.connectionString,
      application_name: 'goal-backfill',
      // The driver drops a socket that has not finished connecting by then, so a server that
      // accepts and never answers leaves nothing pending for destroy() to wait on.
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      stream: sockets.socket,
    },
    // The backfill pins a connection per worker (and one for its lock when there are several);
    // one more serves status reads beside it. A failed connect is reported at once rather than
    // retried until the acquire timeout.
    pool: {
      min: 0,
      max: backfillPoolSize(workers),
      propagateCreateError: true,
      createTimeoutMillis: CONNECT_TIMEOUT_MS,
      destroyTimeoutMillis: 5_000,
    },
    acquireConnectionTimeout: CONNECT_TIMEOUT_MS,
    log,
  });
  const close = async () => {
    try {
      await knex.destroy();
    } finally {
      sockets.closeLeftovers();
    }
  };
  return { knex, target: url.description, close };
}

/**
 * Opens the database at DATABASE_URL, hands it to `work` (resolving names in the schema of
 * `--schema` or GOAL_BACKFILL_SCHEMA, when either is set), and destroys it afterwards, however
 * `work` ends. A failure to connect becomes a DatabaseUnreachableError naming the host.
 */
export async function withDatabase<T>(
  env: Readonly<Record<string, string | undefined>>,
  work: (knex: Knex) => Promise<T>,
  options: CliDatabaseOptions = {},
): Promise<T> {
  const { knex, target, close } = createCliKnex(env, options);
  let connected = false;
  const pool = knex.client.pool as { on?: (event: string, listener: () => void) => void };
  pool?.on?.('createSuccess', () => {
    connected = true;
  });
  try {
    return await inSchema(knex, cliSchema(options.schema, env) ?? null, work);
  } catch (err) {
    throw asDatabaseUnreachable(err, target, { connected }) ?? err;
  } finally {
    await close();
  }
}

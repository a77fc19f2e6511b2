import { Socket } from 'node:net';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { parse } from 'pg-connection-string';
import { ConfigError } from '../errors';
import { createLogger, knexLogHooks, type Logger, silentLogger } from '../logging';
import { CHAIN_MIGRATIONS_TABLE } from '../names';
import { logSettingsFromEnv, schemaFromEnv, workersFromEnv } from '../options';
import { embeddedDataDirectory, embeddedKnexConfig } from './embedded';

type Env = Readonly<Record<string, string | undefined>>;

/** The environments knexfile.ts defines. */
export const KNEX_ENVIRONMENTS = ['development', 'test', 'production'] as const;
export type KnexEnvironment = (typeof KNEX_ENVIRONMENTS)[number];

/** Where the project keeps its migrations, its seeds and its embedded database. */
export interface ProjectPaths {
  migrations: string;
  seeds: string;
  /**
   * The embedded PGlite database's folder when GOAL_BACKFILL_DATA_DIR is unset; used only when
   * no URL is set (never in production).
   */
  embeddedData: string;
}

/** How long to wait for a connection before calling the database unreachable. */
export const CONNECT_TIMEOUT_MS = 15_000;

/**
 * For tests only, not a user setting: replaces {@link CONNECT_TIMEOUT_MS} in the CLI's
 * connection (see {@link connectTimeoutFromEnv}), so that a test of a server that never answers
 * proves the CLI gives up without waiting 15 s.
 */
export const TEST_CONNECT_TIMEOUT_VARIABLE = 'GOAL_BACKFILL_TEST_CONNECT_TIMEOUT_MS';

/** The longest connect timeout {@link TEST_CONNECT_TIMEOUT_VARIABLE} takes, in ms. */
const MAX_TEST_CONNECT_TIMEOUT_MS = 600_000;

/**
 * The CLI's connect timeout: {@link CONNECT_TIMEOUT_MS} (15 s) unless the tests-only
 * {@link TEST_CONNECT_TIMEOUT_VARIABLE} is set; unset or blank, the default applies, as always.
 * Throws {@link ConfigError} with a one-line fix unless it is a whole number of milliseconds
 * from 1 to 600000 (decimal digits only).
 * @default CONNECT_TIMEOUT_MS
 */
export function connectTimeoutFromEnv(env: Env): number {
  const raw = env[TEST_CONNECT_TIMEOUT_VARIABLE]?.trim();
  if (raw === undefined || raw === '') return CONNECT_TIMEOUT_MS;
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= MAX_TEST_CONNECT_TIMEOUT_MS)) {
    throw new ConfigError([
      `${TEST_CONNECT_TIMEOUT_VARIABLE} must be a whole number of milliseconds from 1 to ` +
        `${MAX_TEST_CONNECT_TIMEOUT_MS} (got ${JSON.stringify(raw)}); it is for tests only, unset it`,
    ]);
  }
  return value;
}

/**
 * The fewest connections the knexfile's pool allows, however many workers: it serves the app's
 * own migrations and seeds too.
 */
const KNEXFILE_POOL_FLOOR = 4;

/**
 * The Knex configuration for one environment: the server at DATABASE_URL (TEST_DATABASE_URL
 * first for `test`), or, when none is set outside production, the embedded database. Its pool
 * fits GOAL_BACKFILL_WORKERS, which the embedded database refuses above 1. GOAL_BACKFILL_SCHEMA
 * becomes its `searchPath` and the schema of its migrations table; Knex's lines follow
 * GOAL_BACKFILL_LOG_LEVEL and GOAL_BACKFILL_LOG_FORMAT.
 */
export function knexConfigFor(
  environment: KnexEnvironment,
  env: Env,
  paths: ProjectPaths,
): Knex.Config {
  const workers = workersFromEnv(env);
  const setting = `GOAL_BACKFILL_WORKERS=${workers}`;
  const schema = schemaFromEnv(env);
  if (schema.problem !== null) throw new ConfigError([schema.problem]);
  const { logLevel, logFormat } = logSettingsFromEnv(env);
  const { config } = connectionFor(environment, env, paths.embeddedData, {
    workers,
    setting,
    atLeast: KNEXFILE_POOL_FLOOR,
  });
  return {
    // The embedded database sets its own: opening it is no network wait.
    acquireConnectionTimeout: CONNECT_TIMEOUT_MS,
    ...config,
    // Every connection resolves names in the schema, and Knex keeps the chain's record there.
    ...(schema.value === undefined ? {} : { searchPath: [schema.value] }),
    // Knex's own lines in the format of every other line, without driver or server text.
    log: knexLogHooks(createLogger({ level: logLevel, format: logFormat })),
    migrations: {
      directory: paths.migrations,
      extension: 'ts',
      loadExtensions: ['.ts'],
      tableName: CHAIN_MIGRATIONS_TABLE,
      ...(schema.value === undefined ? {} : { schemaName: schema.value }),
    },
    seeds: { directory: paths.seeds, extension: 'ts', loadExtensions: ['.ts'] },
  };
}

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

/**
 * Builds the CLI's Knex instance: the server at DATABASE_URL, or, when it is unset outside
 * production, the embedded PGlite database the Knex commands use. The caller destroys it.
 * Throws a ConfigError with a one-line fix for a bad URL, for production without one, for
 * more than one worker on the embedded database, for an embedded database folder that is
 * empty as set, a file, or a folder PGlite must not open, or for a bad tests-only
 * GOAL_BACKFILL_TEST_CONNECT_TIMEOUT_MS. A server that does not let it connect within the
 * connect timeout ({@link connectTimeoutFromEnv}: 15 s unless that variable is set) is given up on.
 */
export function createCliKnex(
  env: Env,
  { workers = 1, logger = silentLogger }: CliDatabaseOptions = {},
): CliDatabase {
  const log = knexLogHooks(logger);
  const environment = env.NODE_ENV === 'production' ? 'production' : 'development';
  // .data/pglite under the working directory, as knexfile.ts uses.
  const { config, target } = connectionFor(environment, env, path.join('.data', 'pglite'), {
    workers,
    setting: `--workers ${workers}`,
  });
  const connectTimeoutMs = connectTimeoutFromEnv(env);
  if (config.client !== 'pg') {
    // The embedded database's own acquire timeout: opening it is no network wait.
    const knex = knexFactory({ ...config, log });
    return { knex, target, close: () => knex.destroy() };
  }
  const sockets = socketRegistry();
  const knex = knexFactory({
    ...config,
    connection: {
      ...(config.connection as Knex.PgConnectionConfig),
      // The driver drops a socket that has not finished connecting by then, so a server that
      // accepts and never answers leaves nothing pending for destroy() to wait on.
      connectionTimeoutMillis: connectTimeoutMs,
      stream: sockets.socket,
    },
    // A failed connect is reported at once rather than retried until the acquire timeout.
    pool: {
      ...config.pool,
      propagateCreateError: true,
      createTimeoutMillis: connectTimeoutMs,
      destroyTimeoutMillis: 5_000,
    },
    acquireConnectionTimeout: connectTimeoutMs,
    log,
  });
  const close = async () => {
    try {
      await knex.destroy();
    } finally {
      sockets.closeLeftovers();
    }
  };
  return { knex, target, close };
}

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

/** How many workers a backfill on this connection will run, and the setting that asked for them. */
export interface WorkersSetting {
  workers: number;
  /** The setting as written, to name it in a refusal: `--workers 2`, `GOAL_BACKFILL_WORKERS=2`. */
  setting: string;
  /** The fewest connections the pool allows, however many workers. @default 0 */
  atLeast?: number;
}

const ONE_WORKER: WorkersSetting = { workers: 1, setting: '' };

/** The connection the environment names, and how to name it in a message. */
export interface DatabaseConnection {
  /** The connection part of a Knex configuration, its pool sized for the workers. */
  config: Knex.Config;
  /** Safe to print: `postgres://user@host:port/database` or `embedded PGlite in <folder>`. */
  target: string;
}

/**
 * The connection part of a Knex configuration, from the environment, with the URL parsed and
 * the pool sized here alone. Without a URL it is the embedded database in
 * GOAL_BACKFILL_DATA_DIR, or in `embeddedData` when that is unset. More than one worker on the
 * embedded database, which has a single connection, is refused here, before it is opened, as
 * is an empty GOAL_BACKFILL_DATA_DIR.
 */
export function connectionFor(
  environment: KnexEnvironment,
  env: Env,
  embeddedData: string,
  { workers, setting, atLeast = 0 }: WorkersSetting = ONE_WORKER,
): DatabaseConnection {
  const variable =
    environment === 'test' && env.TEST_DATABASE_URL !== undefined
      ? 'TEST_DATABASE_URL'
      : 'DATABASE_URL';
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') {
    if (environment === 'production') {
      throw new ConfigError([
        'DATABASE_URL is not set: production never falls back to the embedded database; ' +
          'set DATABASE_URL=postgres://user:password@host:5432/database',
      ]);
    }
    if (workers > 1) {
      throw new ConfigError([
        `${setting}: more than one worker needs a PostgreSQL server, and the embedded database ` +
          'has a single connection; set DATABASE_URL=postgres://user:password@host:5432/database, ' +
          'or run one worker',
      ]);
    }
    const folder = embeddedDataDirectory(env, embeddedData);
    return {
      config: embeddedKnexConfig(folder),
      target: `embedded PGlite in ${path.relative(process.cwd(), folder) || folder}`,
    };
  }
  const { connectionString, description } = parseDatabaseUrl(raw, variable);
  return {
    config: {
      client: 'pg',
      connection: { connectionString, application_name: 'goal-backfill' },
      pool: { min: 0, max: Math.max(atLeast, backfillPoolSize(workers)) },
    },
    target: description,
  };
}

/**
 * Pool connections a backfill of `workers` workers may hold at once: one per worker, one for
 * the run's lock and record when there are several, and one for reads beside the run.
 */
export function backfillPoolSize(workers: number): number {
  return workers > 1 ? workers + 2 : 2;
}

/** The schemes node-postgres reads as a URL; the match is the scheme with its colon. */
const PROTOCOL_PATTERN = /^(postgres(?:ql)?:)\/\//;

/** A parsed `postgres://` URL, with a description that is safe to print. */
export interface DatabaseUrl {
  connectionString: string;
  /** `postgres://user@host:port/database`, never with the password or the query string. */
  description: string;
}

/**
 * Describes a connection string without its password or query string, as node-postgres reads
 * it: a Unix-socket directory given as `?host=/var/run/postgresql` is named as the host.
 * Anything that does not parse is described as unreadable rather than echoed, since it may
 * hold a password.
 */
export function describeConnectionString(connectionString: string): string {
  try {
    const protocol = PROTOCOL_PATTERN.exec(connectionString)?.[1];
    if (!protocol) throw new Error('not a PostgreSQL URL');
    const parsed = parse(connectionString);
    const user = parsed.user ? `${parsed.user}@` : '';
    const host = parsed.host?.startsWith('/') ? `(socket ${parsed.host})` : (parsed.host ?? '');
    const port = parsed.port ? `:${parsed.port}` : '';
    return `${protocol}//${user}${host}${port}/${parsed.database ?? ''}`;
  } catch {
    return '(unreadable connection string)';
  }
}

/**
 * Parses the URL in `variable`. Every URL that node-postgres accepts is accepted (Unix sockets
 * through `?host=`, `sslmode`, `options`, …). Throws {@link ConfigError} with a one-line fix
 * when it is missing, not a PostgreSQL URL, or names no database; the message never repeats
 * the value.
 */
export function parseDatabaseUrl(raw: string | undefined, variable = 'DATABASE_URL'): DatabaseUrl {
  const example = `${variable}=postgres://user:password@host:5432/database`;
  if (raw === undefined || raw.trim() === '') {
    throw new ConfigError([`${variable} is not set: set it, e.g. ${example}`]);
  }
  const connectionString = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(connectionString)?.[1];
  if (!scheme) {
    throw new ConfigError([`${variable} is not a valid URL: use the form ${example}`]);
  }
  if (!PROTOCOL_PATTERN.test(connectionString)) {
    throw new ConfigError([
      `${variable} must start with postgres:// or postgresql:// (got ${scheme}//)`,
    ]);
  }
  let database: string | null | undefined;
  try {
    database = parse(connectionString).database;
  } catch (cause) {
    throw new ConfigError([`${variable} is not a valid URL: use the form ${example}`], { cause });
  }
  if (!database) {
    throw new ConfigError([`${variable} names no database: add /<database> after the host`]);
  }
  return { connectionString, description: describeConnectionString(connectionString) };
}

interface ClientInternals {
  pglite?: { dataDir?: string };
  connectionSettings?: {
    connectionString?: string;
    host?: string;
    port?: number;
    database?: string;
  };
}

/**
 * Names the database a Knex instance uses, for a log line: the embedded database and its
 * folder, or the server's URL without its password.
 */
export function describeDatabase(knex: Knex): string {
  const client = knex.client as unknown as ClientInternals;
  if (client.pglite) {
    const folder = client.pglite.dataDir;
    return folder
      ? `embedded PGlite in ${path.relative(process.cwd(), folder) || '.'}`
      : 'embedded PGlite in memory';
  }
  const settings = client.connectionSettings ?? {};
  if (settings.connectionString) return describeConnectionString(settings.connectionString);
  const port = settings.port ? `:${settings.port}` : '';
  return `postgres://${settings.host ?? 'localhost'}${port}/${settings.database ?? ''}`;
}

import type { Knex } from 'knex';
import { type BackfillEnv, logSettingsFromEnv, readBackfillEnv } from '../config/backfill-env';
import { describeConnectionString } from '../config/database-url';
import { schemaNameProblem } from '../config/option-spec';
import { asDatabaseUnreachable } from '../db/connection-failure';
import { queryRows } from '../db/query-rows';
import { describeErrorSafely } from '../db/safe-error';
import { assertSchemaUsable, inSchema } from '../db/schema-scope';
import type { SqlRunner } from '../db/sql-runner';
import { ConfigError } from '../errors/config-error';
import { GoalBackfillError } from '../errors/goal-backfill-error';
import { MigrationFailedError } from '../errors/migration-failed-error';
import { createLogger, type LogFormat, renderLogLine } from '../logging/create-logger';
import type { LogFields, Logger } from '../logging/logger';

/** A Knex migration module. */
export interface KnexMigration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
  config?: { transaction?: boolean };
}

/**
 * What an app may give a migration of this package, as in
 * `goalSchemaMigration({ logger: appLogger })` or `backfillMigration('name', { logger })`.
 */
export interface MigrationOptions {
  /**
   * Receives every event of the migration (`migration.*`, `backfill.*`, `rollback.*`, …, each a
   * dotted name and fields of ids, counts and codes) and its failure (`migration.failed`, at
   * error level): any object with `error`, `warn`, `info` and `debug` taking `(event, fields)`,
   * as winston's do; wrap a pino logger in `fieldsFirst`. @default this package's winston
   * logger on stderr, set by GOAL_BACKFILL_LOG_LEVEL and GOAL_BACKFILL_LOG_FORMAT
   */
  logger?: Logger;
  /**
   * The PostgreSQL schema of the app's tables and this package's: every name the migration uses
   * resolves in it alone. Given here, by GOAL_BACKFILL_SCHEMA and by the knexfile's
   * `searchPath` (its first schema), it must be the same in each. @default GOAL_BACKFILL_SCHEMA,
   * else the connection's search_path (the knexfile's `searchPath`)
   */
  schema?: string;
}

/** What a migration's steps receive beside Knex, read when the step starts. */
export interface MigrationContext {
  logger: Logger;
  /** The GOAL_BACKFILL_* settings. */
  env: BackfillEnv;
}

/** A migration's steps, as {@link safeMigration} runs them. */
export interface MigrationSteps {
  up(knex: Knex, context: MigrationContext): Promise<void>;
  down(knex: Knex, context: MigrationContext): Promise<void>;
  config?: { transaction?: boolean };
}

/**
 * The name and options a migration factory was given: `(name?, options?)`, or `(options)` for
 * the default name.
 */
export function migrationArguments(
  defaultName: string,
  nameOrOptions: string | MigrationOptions | undefined,
  options: MigrationOptions | undefined,
): [string, MigrationOptions] {
  if (typeof nameOrOptions === 'object' && nameOrOptions !== null)
    return [defaultName, nameOrOptions];
  return [nameOrOptions ?? defaultName, options ?? {}];
}

/** How an entry point that the Knex CLI runs reports the error it throws. */
export interface KnexCliReporting {
  /** Receives the failure as one error event. @default none: written as the format says */
  logger?: Logger;
  /**
   * `text`: the thrown error's stack is its one line, which the Knex CLI prints. `json`: the
   * failure is one JSON line (to `logger`, or written to stderr at once), and the stack is
   * empty, so the Knex CLI adds an empty line, never a plain one.
   * @default GOAL_BACKFILL_LOG_FORMAT
   */
  format?: LogFormat;
  /** @default 'knex_cli.failed' */
  event?: string;
  /** Fields of the event beside `code` and `reason`. @default `{ step }` */
  fields?: LogFields;
}

/**
 * What an entry point that the Knex CLI runs (a migration, a seed) throws in place of `err`:
 * free of health text in message and stack alike, and printed as one line (the Knex CLI
 * prints `err.stack`). This package's own errors, whose messages carry only ids, counts and
 * codes, keep their class and code with a one-line stack; anything else becomes a
 * {@link MigrationFailedError} rebuilt from codes and this package's own identifiers. The
 * failure is logged as {@link KnexCliReporting} says.
 */
export function toKnexCliError(
  err: unknown,
  step: string,
  reporting: KnexCliReporting = {},
): Error {
  let error: Error;
  if (err instanceof GoalBackfillError) {
    err.stack = `${err.name}: ${err.message}`;
    error = err;
  } else {
    const { code, message } = describeErrorSafely(err);
    error = new MigrationFailedError(step, code, message);
  }
  const { logger, format = logSettingsFromEnv(process.env).logFormat } = reporting;
  const { code, message: reason } = describeErrorSafely(error);
  const fields: LogFields = { ...(reporting.fields ?? { step }), code, reason };
  const event = reporting.event ?? 'knex_cli.failed';
  if (logger !== undefined) logger.error(event, fields);
  else if (format === 'json') process.stderr.write(renderLogLine('json', 'error', event, fields));
  if (format === 'json') error.stack = '';
  return error;
}

/** The first schema of a knexfile's `searchPath`, as Knex sets it, if it has one. */
function knexfileSchema(knex: Knex): string | undefined {
  const searchPath: unknown = knex.client.config?.searchPath;
  const first = Array.isArray(searchPath) ? searchPath[0] : searchPath;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

/**
 * The schema a migration pins its connections to, or null to leave names to the knexfile's
 * `searchPath` (or the connection's own). Throws {@link ConfigError} for a bad name, or for
 * places that name different schemas: the migration would write to one and Knex record it in
 * another.
 */
function migrationSchema(knex: Knex, option: string | undefined, variable: string | undefined) {
  const problem = schemaNameProblem(option);
  if (problem !== null) throw new ConfigError([`schema ${problem}`]);
  const given = [
    { where: "the migration's schema option", value: option },
    { where: 'GOAL_BACKFILL_SCHEMA', value: variable },
    { where: "the knexfile's searchPath", value: knexfileSchema(knex) },
  ].filter((place) => place.value !== undefined);
  if (new Set(given.map((place) => place.value)).size > 1) {
    const places = given.map(({ where, value }) => `${where} ${JSON.stringify(value)}`);
    throw new ConfigError([
      `the schema is given as ${places.join(' and ')}: give it in one place, or the same in each`,
    ]);
  }
  return option ?? variable ?? null;
}

/**
 * A Knex migration from `steps`: each step reads the GOAL_BACKFILL_* settings, runs with every
 * name resolved in the migration's schema, logs to `options.logger` (or the default logger),
 * and throws whatever stops it as {@link toKnexCliError} makes it.
 */
export function safeMigration(
  name: string,
  steps: MigrationSteps,
  options: MigrationOptions = {},
): KnexMigration {
  const guard =
    (direction: 'up' | 'down') =>
    async (knex: Knex): Promise<void> => {
      try {
        const env = readBackfillEnv(process.env);
        const logger =
          options.logger ?? createLogger({ level: env.logLevel, format: env.logFormat });
        const schema = migrationSchema(knex, options.schema, env.schema);
        await inSchema(knex, schema, (scoped) => steps[direction](scoped, { logger, env }));
      } catch (err) {
        throw toKnexCliError(err, `migration ${name} (${direction})`, {
          logger: options.logger,
          event: 'migration.failed',
          fields: { migration: name, direction },
        });
      }
    };
  return {
    ...(steps.config === undefined ? {} : { config: steps.config }),
    up: guard('up'),
    down: guard('down'),
  };
}

type KnexClientClass = typeof Knex.Client;

/** The class behind `client`: Knex's own PostgreSQL client for its names, a class as it is. */
function clientClassOf(client: Knex.Config['client']): KnexClientClass | null {
  if (typeof client === 'function') return client as KnexClientClass;
  if (client === 'pg' || client === 'postgres' || client === 'postgresql') {
    return require('knex/lib/dialects/postgres/index.js') as KnexClientClass;
  }
  return null;
}

/** What a connection error names the database as: its URL without the password. */
function targetOf(connection: Knex.Config['connection']): string | null {
  const url = (connection as { connectionString?: unknown } | undefined)?.connectionString;
  return typeof url === 'string' ? describeConnectionString(url) : null;
}

/**
 * `config` with a client whose failures to connect reach the Knex CLI as one line. Knex's
 * migrator connects before any migration runs, and the Knex CLI prints the stack of whatever
 * it throws: a refused connection or an SSL mismatch would print the driver's error whole.
 * Until a first connection succeeds, each failure becomes a DatabaseUnreachableError naming
 * the database without its password (anything else passes {@link toKnexCliError}); after
 * that, errors pass untouched, so that a run that reconnects sees the driver's own. The first
 * connection also checks the schema of the config's `searchPath`, where Knex would otherwise
 * fail to create its migrations table with the server's own multi-line error.
 */
export function withOneLineConnectFailures(config: Knex.Config): Knex.Config {
  const Base = clientClassOf(config.client);
  if (Base === null) return config;
  const target = targetOf(config.connection);
  const searchPath: unknown = config.searchPath;
  const schema = Array.isArray(searchPath) ? (searchPath[0] as unknown) : searchPath;

  class OneLineConnectFailures extends Base {
    private connected = false;

    override async acquireConnection(): Promise<unknown> {
      let connection: unknown;
      try {
        connection = await super.acquireConnection();
      } catch (err) {
        if (this.connected) throw err;
        const unreachable = target === null ? null : asDatabaseUnreachable(err, target);
        throw toKnexCliError(unreachable ?? err, 'connection to the database');
      }
      if (!this.connected && typeof schema === 'string') {
        try {
          await assertSchemaUsable(this.runnerOn(connection), schema);
        } catch (err) {
          await this.releaseConnection(connection);
          throw toKnexCliError(err, 'connection to the database');
        }
      }
      this.connected = true;
      return connection;
    }

    /** Statements on `connection` itself, which the pool has lent out already. */
    private runnerOn(connection: unknown): SqlRunner {
      return {
        rows: async <Row>(sql: string, bindings: readonly unknown[] = []) =>
          queryRows<Row>(
            await this.raw(sql, bindings as Knex.RawBinding[]).connection(connection as never),
          ),
      };
    }
  }
  return { ...config, client: OneLineConnectFailures };
}

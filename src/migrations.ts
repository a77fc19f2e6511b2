import type { Knex } from 'knex';
import { runBackfill } from './backfill/run';
import { describeConnectionString } from './config/knex';
import { asDatabaseUnreachable, describeErrorSafely } from './db/failures';
import { assertSchemaUsable, inSchema } from './db/schema-scope';
import { queryRows, type SqlRunner, sqlRunner } from './db/sql-runner';
import {
  BackfillIncompleteError,
  ConfigError,
  GoalBackfillError,
  MigrationFailedError,
} from './errors';
import { TEARDOWN_OVERRIDE_VARIABLE, teardownGoalSchema } from './goals';
import type { LogFields, Logger } from './logging';
import { createLogger, type LogFormat, renderLogLine } from './logging';
import { TABLES } from './names';
import {
  type BackfillEnv,
  backfillEnvOptions,
  logSettingsFromEnv,
  readBackfillEnv,
  schemaNameProblem,
} from './options';
import { rollbackBackfill } from './rollback';
import { assertAppSchemaCompatible, createMissingAppTables } from './schema/app-tables';
import { createGoalSchema, dropGoalDedupIndex, restoreGoalDedupIndex } from './schema/goal-schema';
import { type DdlSettings, DEFAULT_DDL_SETTINGS, relationOwnership } from './schema/lock-safe-ddl';

/**
 * The migrations this package ships, as factories an app's chain (and this project's own
 * migrations/) calls, and the one wrapper they all run in ({@link safeMigration}): it reads the
 * GOAL_BACKFILL_* settings, pins the schema, picks the logger, and turns whatever a step throws
 * into one line free of health text. The entry points the Knex CLI runs (the knexfile, the
 * seeds) report their failures through the same {@link toKnexCliError}.
 */

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
 * A migration factory of this package: it takes an optional name and {@link MigrationOptions}
 * (`{ logger, schema }`), or the options alone for its default name.
 */
export type MigrationFactory = (
  nameOrOptions?: string | MigrationOptions,
  maybeOptions?: MigrationOptions,
) => KnexMigration;

/**
 * The factory of the migration that runs `steps` in {@link safeMigration}: called with a name
 * and options, with a name, with the options alone (then named `defaultName`) or with nothing.
 */
function migrationFactory(defaultName: string, steps: MigrationSteps): MigrationFactory {
  return (nameOrOptions, maybeOptions) =>
    typeof nameOrOptions === 'object' && nameOrOptions !== null
      ? safeMigration(defaultName, steps, nameOrOptions)
      : safeMigration(nameOrOptions ?? defaultName, steps, maybeOptions ?? {});
}

/**
 * The first migration of this project's chain: the app's `users` and `therapy_sessions`,
 * created only when missing. Tables the app already has are checked for the columns the
 * backfill needs (a misfit fails before anything changes) and otherwise left alone.
 *
 * Its `down` changes nothing, on purpose: whoever created these tables, they hold the app's
 * data, and no rollback of this package drops them. A local database this chain built is reset
 * with `npm run db:reset` (docs/development.md).
 */
export const appTablesMigration: MigrationFactory = migrationFactory('create_app_tables', {
  async up(knex: Knex, { logger }) {
    await assertAppSchemaCompatible(sqlRunner(knex));
    const created = await createMissingAppTables(knex);
    const existing = [TABLES.users, TABLES.sessions].filter((table) => !created.includes(table));
    logger.info('migration.app_tables', { created, existing });
  },
  async down(_knex: Knex, { logger }) {
    logger.info('migration.app_tables_kept', {
      reason: 'the app tables hold the app data; no rollback drops them',
    });
  },
});

/** The lock_timeout and statement_timeout of the migrations' changes to the app's tables. */
function ddlSettingsFrom({ lockTimeoutMs, statementTimeoutMs }: BackfillEnv): DdlSettings {
  return {
    ...DEFAULT_DDL_SETTINGS,
    lockTimeoutMs: lockTimeoutMs ?? DEFAULT_DDL_SETTINGS.lockTimeoutMs,
    statementTimeoutMs: statementTimeoutMs ?? DEFAULT_DDL_SETTINGS.statementTimeoutMs,
  };
}

/**
 * The migration that sets up treatment_goals for the backfill: it creates the table when the app
 * has none, adopts the app's own otherwise (see {@link createGoalSchema}), and creates the
 * backfill's bookkeeping. Not in Knex's transaction, on purpose: its indexes are built
 * CONCURRENTLY so the app's writes never wait for them, and each step is idempotent, so a failed
 * run is completed by running it again.
 *
 * Its `down` drops a treatment_goals this package created only while no clinician entered or
 * changed a goal; otherwise it keeps the schema and says so in one line (see
 * {@link teardownGoalSchema}); GOAL_BACKFILL_ALLOW_TEARDOWN=1 drops it regardless. An app's own
 * treatment_goals is never dropped: the backfilled goals nobody changed are deleted, and the
 * table gets back exactly the columns, indexes and triggers it had.
 */
export const goalSchemaMigration: MigrationFactory = migrationFactory('create_treatment_goals', {
  config: { transaction: false },
  async up(knex: Knex, { logger, env }) {
    const db = sqlRunner(knex);
    await assertAppSchemaCompatible(db);
    const before = await relationOwnership(db, TABLES.goals);
    await createGoalSchema(knex, ddlSettingsFrom(env));
    logger.info('migration.goal_schema', {
      treatmentGoals: { missing: 'created', theirs: 'adopted', ours: 'kept' }[before],
    });
  },
  async down(knex: Knex, { logger, env }) {
    const db = sqlRunner(knex);
    const adopted =
      (await relationOwnership(db, TABLES.goals)) === 'theirs' &&
      (await relationOwnership(db, TABLES.runs)) === 'ours';
    // Normally the backfill migration's down has done it; a run outside the chain may not have.
    if (adopted) await rollbackBackfill({ knex, logger });
    await teardownGoalSchema(knex, {
      allow: process.env[TEARDOWN_OVERRIDE_VARIABLE] === '1',
      logger,
      settings: ddlSettingsFrom(env),
    });
  },
});

/**
 * The migration that makes the dedup rule the backfill's alone on a database that goal-backfill
 * 0.1.0 migrated: that version gave its treatment_goals a unique index on (patient_id,
 * description key), which refused a clinician's goal whose text the patient already had. `up`
 * builds the non-unique lookup index and drops the unique one, both CONCURRENTLY (so not in
 * Knex's transaction); on any other database it changes nothing. `down` puts the unique index
 * back where `up` removed it, unless the app has since entered a repeated goal; then it changes
 * nothing and says so in one line.
 */
export const dedupRuleMigration: MigrationFactory = migrationFactory('backfill_dedup_rule', {
  config: { transaction: false },
  async up(knex: Knex, { logger, env }) {
    const dropped = await dropGoalDedupIndex(knex, ddlSettingsFrom(env));
    logger.info('migration.dedup_rule', { uniqueIndexDropped: dropped });
  },
  async down(knex: Knex, { logger, env }) {
    const restored = await restoreGoalDedupIndex(knex, ddlSettingsFrom(env));
    if (restored.outcome === 'repeated_pairs') {
      logger.warn('rollback.dedup_index_not_restored', {
        repeatedPairs: restored.pairs,
        why: 'the app holds goals whose text repeats for a patient; a unique index would refuse them',
        next: 'nothing was changed; goal-backfill runs without it',
      });
    }
  },
});

/** How long a migration waits for another backfill to release the lock, unless GOAL_BACKFILL_LOCK_WAIT_MS says otherwise. */
const MIGRATION_LOCK_WAIT_MS = 60_000;

/**
 * The data migration: `up` backfills treatment_goals (GOAL_BACKFILL_* settings apply) and fails
 * when any session failed; `down` deletes the backfilled goals nobody changed.
 *
 * Not in Knex's transaction, on purpose: the backfill commits page by page so that a killed
 * deploy resumes where it stopped instead of redoing (and holding locks on) the whole table.
 */
export const backfillMigration: MigrationFactory = migrationFactory('backfill_treatment_goals', {
  config: { transaction: false },
  async up(knex: Knex, { logger, env }) {
    const result = await runBackfill({
      ...backfillEnvOptions(env),
      // The migration's Knex resolves names in its schema already.
      schema: undefined,
      knex,
      logger,
      invokedBy: 'migration',
      lockWaitMs: env.lockWaitMs ?? MIGRATION_LOCK_WAIT_MS,
    });
    if (result.errors > 0) throw new BackfillIncompleteError(result.errors, result.runId);
  },
  async down(knex: Knex, { logger, env }) {
    await rollbackBackfill({
      knex,
      logger,
      lockWaitMs: env.lockWaitMs ?? MIGRATION_LOCK_WAIT_MS,
    });
  },
});

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

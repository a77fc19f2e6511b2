import type { Knex } from 'knex';
import { describeConnectionString } from '../config/database-url';
import { asDatabaseUnreachable } from '../db/connection-failure';
import { describeErrorSafely } from '../db/safe-error';
import { GoalBackfillError } from '../errors/goal-backfill-error';
import { MigrationFailedError } from '../errors/migration-failed-error';

/** A Knex migration module. */
export interface KnexMigration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
  config?: { transaction?: boolean };
}

/**
 * What an entry point that the Knex CLI runs (a migration, a seed) throws in place of `err`:
 * free of health text in message and stack alike, and printed as one line (the Knex CLI
 * prints `err.stack`). This package's own errors, whose messages carry only ids, counts and
 * codes, keep their class and code with a one-line stack; anything else becomes a
 * {@link MigrationFailedError} rebuilt from codes and this package's own identifiers.
 */
export function toKnexCliError(err: unknown, step: string): Error {
  if (err instanceof GoalBackfillError) {
    err.stack = `${err.name}: ${err.message}`;
    return err;
  }
  const { code, message } = describeErrorSafely(err);
  return new MigrationFailedError(step, code, message);
}

/** Wraps a migration so that whatever its `up` or `down` throws passes {@link toKnexCliError}. */
export function safeMigration(name: string, migration: KnexMigration): KnexMigration {
  const guard =
    (direction: 'up' | 'down') =>
    async (knex: Knex): Promise<void> => {
      try {
        await migration[direction](knex);
      } catch (err) {
        throw toKnexCliError(err, `migration ${name} (${direction})`);
      }
    };
  return { ...migration, up: guard('up'), down: guard('down') };
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
 * that, errors pass untouched, so that a run that reconnects sees the driver's own.
 */
export function withOneLineConnectFailures(config: Knex.Config): Knex.Config {
  const Base = clientClassOf(config.client);
  if (Base === null) return config;
  const target = targetOf(config.connection);

  class OneLineConnectFailures extends Base {
    private connected = false;

    override async acquireConnection(): Promise<unknown> {
      try {
        const connection: unknown = await super.acquireConnection();
        this.connected = true;
        return connection;
      } catch (err) {
        if (this.connected) throw err;
        const unreachable = target === null ? null : asDatabaseUnreachable(err, target);
        throw toKnexCliError(unreachable ?? err, 'connection to the database');
      }
    }
  }
  return { ...config, client: OneLineConnectFailures };
}

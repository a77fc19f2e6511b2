import type { Knex } from 'knex';
import { sqlRunner } from '../db/sql-runner';
import { createMissingAppTables } from '../schema/app-tables';
import { assertAppSchemaCompatible } from '../schema/assert-app-schema-compatible';
import { TABLES } from '../schema/tables';
import {
  type KnexMigration,
  type MigrationOptions,
  migrationArguments,
  safeMigration,
} from './safe-migration';

/**
 * The first migration of this project's chain: the app's `users` and `therapy_sessions`,
 * created only when missing. Tables the app already has are checked for the columns the
 * backfill needs (a misfit fails before anything changes) and otherwise left alone.
 *
 * Its `down` changes nothing, on purpose: whoever created these tables, they hold the app's
 * data, and no rollback of this package drops them. A local database this chain built is reset
 * with `npm run db:reset` (docs/development.md).
 */
export function appTablesMigration(
  nameOrOptions?: string | MigrationOptions,
  maybeOptions?: MigrationOptions,
): KnexMigration {
  const [name, options] = migrationArguments('create_app_tables', nameOrOptions, maybeOptions);
  return safeMigration(
    name,
    {
      async up(knex: Knex, { logger }) {
        await assertAppSchemaCompatible(sqlRunner(knex));
        const created = await createMissingAppTables(knex);
        const existing = [TABLES.users, TABLES.sessions].filter(
          (table) => !created.includes(table),
        );
        logger.info('migration.app_tables', { created, existing });
      },
      async down(_knex: Knex, { logger }) {
        logger.info('migration.app_tables_kept', {
          reason: 'the app tables hold the app data; no rollback drops them',
        });
      },
    },
    options,
  );
}

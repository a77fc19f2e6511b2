import type { Knex } from 'knex';
import { runBackfill } from '../backfill/run-backfill';
import { backfillEnvOptions } from '../config/backfill-env';
import { BackfillIncompleteError } from '../errors/backfill-incomplete-error';
import { rollbackBackfill } from '../rollback';
import {
  type KnexMigration,
  type MigrationOptions,
  migrationArguments,
  safeMigration,
} from './safe-migration';

/** How long a migration waits for another backfill to release the lock, unless GOAL_BACKFILL_LOCK_WAIT_MS says otherwise. */
const MIGRATION_LOCK_WAIT_MS = 60_000;

/**
 * The data migration: `up` backfills treatment_goals (GOAL_BACKFILL_* settings apply) and fails
 * when any session failed; `down` deletes the backfilled goals nobody changed. Takes an optional
 * name and {@link MigrationOptions} (`{ logger, schema }`), or the options alone.
 *
 * Not in Knex's transaction, on purpose: the backfill commits page by page so that a killed
 * deploy resumes where it stopped instead of redoing (and holding locks on) the whole table.
 */
export function backfillMigration(
  nameOrOptions?: string | MigrationOptions,
  maybeOptions?: MigrationOptions,
): KnexMigration {
  const [name, options] = migrationArguments(
    'backfill_treatment_goals',
    nameOrOptions,
    maybeOptions,
  );
  return safeMigration(
    name,
    {
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
    },
    options,
  );
}

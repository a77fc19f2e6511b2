import type { Knex } from 'knex';
import { runBackfill } from '../backfill/run-backfill';
import { backfillEnvOptions, readBackfillEnv } from '../config/backfill-env';
import { BackfillIncompleteError } from '../errors/backfill-incomplete-error';
import { rollbackBackfill } from '../rollback/rollback-backfill';
import { migrationLogger } from './migration-logger';
import { type KnexMigration, safeMigration } from './safe-migration';

/** How long a migration waits for another backfill to release the lock, unless GOAL_BACKFILL_LOCK_WAIT_MS says otherwise. */
const MIGRATION_LOCK_WAIT_MS = 60_000;

/**
 * The data migration: `up` backfills treatment_goals (GOAL_BACKFILL_* settings apply) and fails
 * when any session failed; `down` deletes the backfilled goals nobody changed.
 *
 * Not in Knex's transaction, on purpose: the backfill commits page by page so that a killed
 * deploy resumes where it stopped instead of redoing (and holding locks on) the whole table.
 */
export function backfillMigration(name = 'backfill_treatment_goals'): KnexMigration {
  return safeMigration(name, {
    config: { transaction: false },
    async up(knex: Knex) {
      const env = readBackfillEnv(process.env);
      const result = await runBackfill({
        ...backfillEnvOptions(env),
        knex,
        logger: migrationLogger(),
        invokedBy: 'migration',
        lockWaitMs: env.lockWaitMs ?? MIGRATION_LOCK_WAIT_MS,
      });
      if (result.errors > 0) throw new BackfillIncompleteError(result.errors, result.runId);
    },
    async down(knex: Knex) {
      const env = readBackfillEnv(process.env);
      await rollbackBackfill({
        knex,
        logger: migrationLogger(),
        lockWaitMs: env.lockWaitMs ?? MIGRATION_LOCK_WAIT_MS,
      });
    },
  });
}

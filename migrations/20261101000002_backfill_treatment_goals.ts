import type { Knex } from 'knex';
import { runBackfill } from '../src/backfill/run-backfill';
import { readBackfillEnv } from '../src/config/backfill-env';
import { BackfillIncompleteError } from '../src/errors/backfill-incomplete-error';
import { createLogger } from '../src/logging/create-logger';
import { rollbackBackfill } from '../src/rollback/rollback-backfill';

/**
 * Not in Knex's transaction, on purpose: the backfill commits page by page so that a killed
 * deploy resumes where it stopped instead of redoing (and holding locks on) the whole table.
 */
export const config = { transaction: false };

/** Backfills treatment_goals from the sessions' action items. Fails if any session failed. */
export async function up(knex: Knex): Promise<void> {
  const env = readBackfillEnv(process.env);
  const logger = createLogger({ level: env.logLevel, format: env.logFormat });
  const result = await runBackfill({
    knex,
    logger,
    invokedBy: 'migration',
    batchSize: env.batchSize,
    statementTimeoutMs: env.statementTimeoutMs,
    lockTimeoutMs: env.lockTimeoutMs,
    lockWaitMs: env.lockWaitMs ?? 60_000,
    progressEvery: env.progressEvery,
  });
  if (result.errors > 0) throw new BackfillIncompleteError(result.errors, result.runId);
}

/** Deletes the backfilled goals nobody has changed; clinician and changed goals stay. */
export async function down(knex: Knex): Promise<void> {
  const env = readBackfillEnv(process.env);
  const logger = createLogger({ level: env.logLevel, format: env.logFormat });
  await rollbackBackfill({ knex, logger, lockWaitMs: env.lockWaitMs ?? 60_000 });
}

import type { Knex } from 'knex';
import { BackfillIncompleteError } from '../src/errors/backfill-incomplete-error';
import { createLogger } from '../src/logging/create-logger';
import { assertSeedingAllowed } from '../src/seed/assert-seeding-allowed';
import { readSeedSettings } from '../src/seed/read-seed-settings';
import { seedAndBackfill } from '../src/seed/seed-and-backfill';

/**
 * `npx knex seed:run`: empties the seeded tables, fills them with a deterministic therapy
 * practice of SEED_SESSIONS sessions (default 2000), and runs the goal backfill on it, reading
 * the GOAL_BACKFILL_* variables like the migration does. Refuses under NODE_ENV=production.
 * See docs/seeding.md.
 */
export async function seed(knex: Knex): Promise<void> {
  assertSeedingAllowed(process.env, process.argv);
  const settings = readSeedSettings(process.env);
  const logger = createLogger({
    level: settings.backfill.logLevel,
    format: settings.backfill.logFormat,
  });
  const { backfill } = await seedAndBackfill({
    knex,
    logger,
    sessions: settings.sessions,
    backfill: {
      batchSize: settings.backfill.batchSize,
      statementTimeoutMs: settings.backfill.statementTimeoutMs,
      lockTimeoutMs: settings.backfill.lockTimeoutMs,
      lockWaitMs: settings.backfill.lockWaitMs,
      progressEvery: settings.backfill.progressEvery,
    },
  });
  if (backfill.errors > 0) throw new BackfillIncompleteError(backfill.errors, backfill.runId);
}

import type { BackfillOptions } from '../backfill/backfill-options';
import type { BackfillResult } from '../backfill/backfill-result';
import { runBackfill } from '../backfill/run-backfill';
import { seedDatabase } from './seed-database';
import type { SeedDatabaseOptions } from './seed-options';
import type { SeedStats } from './seed-stats';

/** Options of {@link seedAndBackfill}. */
export interface SeedAndBackfillOptions extends SeedDatabaseOptions {
  /** Settings of the backfill that follows; its knex, logger and `invokedBy: 'seed'` are set here. */
  backfill?: Omit<BackfillOptions, 'knex' | 'logger' | 'invokedBy'>;
}

/** What {@link seedAndBackfill} did. */
export interface SeedAndBackfillResult {
  seeding: SeedStats;
  backfill: BackfillResult;
}

function occurring(counts: Partial<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts).filter((entry): entry is [string, number] => (entry[1] ?? 0) > 0),
  );
}

/**
 * Seeds the database (see {@link seedDatabase}), then runs the shared backfill on it, as the
 * migration would in production, and logs the backfill's counts. Returns both results; check
 * `backfill.errors`.
 */
export async function seedAndBackfill(
  options: SeedAndBackfillOptions,
): Promise<SeedAndBackfillResult> {
  const { knex, logger } = options;
  const seeding = await seedDatabase(options);
  const backfill = await runBackfill({ ...options.backfill, knex, logger, invokedBy: 'seed' });
  logger.info('seed.backfill_summary', {
    runId: backfill.runId,
    sessionsProcessed: backfill.sessionsProcessed,
    sessionsWithActionItems: backfill.sessionsWithActionItems,
    sessionsSkippedByReason: occurring(backfill.sessionsSkippedByReason),
    itemsSeen: backfill.itemsSeen,
    goalsCreated: backfill.goalsCreated,
    duplicatesSkipped: backfill.duplicatesSkipped,
    invalidSkipped: backfill.invalidSkipped,
    invalidByReason: occurring(backfill.invalidByReason),
    errors: backfill.errors,
    elapsedMs: backfill.elapsedMs,
  });
  logger.info('seed.finish', {
    sessions: seeding.sessions,
    goalsCreated: backfill.goalsCreated,
    loadMs: seeding.durationMs,
    backfillMs: backfill.elapsedMs,
  });
  return { seeding, backfill };
}

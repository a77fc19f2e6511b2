// Compiled with `tsc --noEmit` by test/package/consumer-app.e2e.test.ts, and with the TypeScript
// app's knexfile and migrations by test/package/app-kinds.e2e.test.ts: the package's types work for
// a consumer, with the app's own knex.

import {
  type BackfillResult,
  backfillMigration,
  dedupRuleMigration,
  GoalBackfillError,
  goalSchemaMigration,
  type KnexMigration,
  runBackfill,
  silentLogger,
} from 'goal-backfill';
import type { Knex } from 'knex';

export const migrations: KnexMigration[] = [
  goalSchemaMigration(),
  dedupRuleMigration(),
  backfillMigration(),
];

export async function backfillQuietly(knex: Knex): Promise<number> {
  try {
    const result: BackfillResult = await runBackfill({
      knex,
      logger: silentLogger,
      batchSize: 500,
    });
    return result.goalsCreated;
  } catch (error) {
    if (error instanceof GoalBackfillError) return -1;
    throw error;
  }
}

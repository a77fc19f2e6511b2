// Compiled with `tsc --noEmit` by scripts/check-consumer.sh: the package's types work for a consumer.
import type { Knex } from 'knex';
import { type BackfillResult, GoalBackfillError, runBackfill, silentLogger } from 'goal-backfill';

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

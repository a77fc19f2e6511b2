import type { Knex } from 'knex';
import { readBackfillEnv } from '../src/config/backfill-env';
import { assertTeardownAllowed, TEARDOWN_OVERRIDE_VARIABLE } from '../src/goals/teardown-guard';
import { createLogger } from '../src/logging/create-logger';
import { createGoalSchema, dropGoalSchema } from '../src/schema/goal-schema';

/**
 * treatment_goals, with the provenance the backfill needs, and the backfill's bookkeeping.
 * Runs in Knex's transaction: the schema appears whole or not at all.
 */
export async function up(knex: Knex): Promise<void> {
  await createGoalSchema(knex);
}

/**
 * Drops what `up` created. Refuses while treatment_goals holds goals the backfill did not
 * create, unless GOAL_BACKFILL_ALLOW_TEARDOWN=1 says the loss is deliberate.
 */
export async function down(knex: Knex): Promise<void> {
  const env = readBackfillEnv(process.env);
  await assertTeardownAllowed(knex, {
    allow: process.env[TEARDOWN_OVERRIDE_VARIABLE] === '1',
    logger: createLogger({ level: env.logLevel, format: env.logFormat }),
  });
  await dropGoalSchema(knex);
}

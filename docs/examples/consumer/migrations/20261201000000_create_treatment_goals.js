// treatment_goals and the backfill's bookkeeping, created in Knex's transaction.
const {
  assertTeardownAllowed,
  createGoalSchema,
  createLogger,
  dropGoalSchema,
} = require('goal-backfill');

exports.up = (knex) => createGoalSchema(knex);

exports.down = async (knex) => {
  // Refuses while clinicians' goals are in the table, unless GOAL_BACKFILL_ALLOW_TEARDOWN=1.
  await assertTeardownAllowed(knex, {
    allow: process.env.GOAL_BACKFILL_ALLOW_TEARDOWN === '1',
    logger: createLogger(),
  });
  await dropGoalSchema(knex);
};

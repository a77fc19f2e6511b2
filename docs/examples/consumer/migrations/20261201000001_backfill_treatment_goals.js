// The backfill. Not in Knex's transaction: it commits page by page, so a killed deploy resumes.
const {
  BackfillIncompleteError,
  createLogger,
  readBackfillEnv,
  rollbackBackfill,
  runBackfill,
} = require('goal-backfill');

exports.config = { transaction: false };

exports.up = async (knex) => {
  const env = readBackfillEnv(process.env); // GOAL_BACKFILL_BATCH_SIZE and friends
  const logger = createLogger({ level: env.logLevel, format: env.logFormat });
  const result = await runBackfill({
    knex,
    logger,
    invokedBy: 'migration',
    batchSize: env.batchSize,
    lockWaitMs: env.lockWaitMs ?? 60_000,
  });
  if (result.errors > 0) throw new BackfillIncompleteError(result.errors, result.runId);
};

exports.down = async (knex) => {
  await rollbackBackfill({ knex, logger: createLogger(), lockWaitMs: 60_000 });
};

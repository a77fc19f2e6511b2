// The backfill, outside Knex's transaction (it commits page by page, so a killed deploy
// resumes). GOAL_BACKFILL_* variables tune it. Its down deletes the backfilled goals nobody changed.
module.exports = require('goal-backfill').backfillMigration();

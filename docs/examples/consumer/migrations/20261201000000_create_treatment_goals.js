// treatment_goals and the backfill's bookkeeping, in Knex's transaction. Its down drops them
// only while no clinician entered or changed a goal; otherwise it keeps them and says so.
module.exports = require('goal-backfill').goalSchemaMigration();

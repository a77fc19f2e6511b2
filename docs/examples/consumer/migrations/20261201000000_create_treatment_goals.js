// migrations/20261201000000_create_treatment_goals.js: creates treatment_goals (or adopts the
// app's) and the backfill's bookkeeping, outside Knex's transaction: it builds indexes CONCURRENTLY.
module.exports = require('goal-backfill').goalSchemaMigration();

// treatment_goals (the app's own is adopted; none, and it is created) and the backfill's
// bookkeeping. Outside Knex's transaction: its indexes are built CONCURRENTLY. Its down gives an
// app's table back as it was, and drops one it created only while no clinician entered a goal.
module.exports = require('goal-backfill').goalSchemaMigration();

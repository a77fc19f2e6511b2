// migrations/20261201000000_treatment_goals_dedup_rule.js: drops the unique index goal-backfill
// 0.1.0 built, CONCURRENTLY; on any other database it does nothing.
module.exports = require('goal-backfill').dedupRuleMigration();

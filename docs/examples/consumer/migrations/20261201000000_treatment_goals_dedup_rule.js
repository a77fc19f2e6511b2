// Makes the backfill's dedup rule its own on a database that goal-backfill 0.1.0 migrated (drops
// the unique index that version built, CONCURRENTLY); a no-op otherwise. Its name sorts it between
// the schema and the backfill, so migrate:down still undoes the backfill first.
module.exports = require('goal-backfill').dedupRuleMigration();

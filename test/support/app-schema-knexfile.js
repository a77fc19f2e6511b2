// The knexfile of an app whose tables live in a PostgreSQL schema of their own, with
// goal-backfill's three migrations in its chain (test/migrations/knex-cli-app-schema.e2e.test.ts).
// APP_KNEXFILE_SCHEMA names the schema of its searchPath and of its Knex migrations table;
// empty, it sets neither. Its Knex log hooks follow GOAL_BACKFILL_LOG_FORMAT, as
// docs/library.md suggests.
require('sucrase/register/ts');
const {
  backfillMigration,
  createLogger,
  dedupRuleMigration,
  goalSchemaMigration,
  knexLogHooks,
} = require('../../src/index.ts');

const schema = process.env.APP_KNEXFILE_SCHEMA ?? 'app';
const migrations = {
  '20261201000000_create_treatment_goals': goalSchemaMigration(),
  '20261201000000_treatment_goals_dedup_rule': dedupRuleMigration(),
  '20261201000001_backfill_treatment_goals': backfillMigration(),
};
const format = process.env.GOAL_BACKFILL_LOG_FORMAT === 'json' ? 'json' : 'text';

module.exports = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  ...(schema === '' ? {} : { searchPath: [schema] }),
  log: knexLogHooks(createLogger({ format, level: process.env.GOAL_BACKFILL_LOG_LEVEL ?? 'info' })),
  migrations: {
    ...(schema === '' ? {} : { schemaName: schema }),
    migrationSource: {
      getMigrations: async () => Object.keys(migrations),
      getMigrationName: (name) => name,
      getMigration: async (name) => migrations[name],
    },
  },
};

import { goalSchemaMigration } from '../src/migrations';

/**
 * treatment_goals (created when the app has none, adopted when it has) and the backfill's
 * bookkeeping. Not in Knex's transaction, on purpose: its indexes are built CONCURRENTLY, and
 * every step can run again. `down` drops a table it created unless clinicians entered or changed
 * goals; from the app's own table it removes what it added, and keeps the table.
 */
export const { up, down, config } = goalSchemaMigration('20261101000001_create_treatment_goals');

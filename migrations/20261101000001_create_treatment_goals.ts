import { goalSchemaMigration } from '../src/migrations/goal-schema-migration';

/**
 * treatment_goals and the backfill's bookkeeping, in Knex's transaction. `down` drops them
 * unless clinicians entered or changed goals; then it keeps them and says so in one line.
 */
export const { up, down } = goalSchemaMigration('20261101000001_create_treatment_goals');

// migrations/20261201000000_create_treatment_goals.ts: creates treatment_goals (or adopts the
// app's) and the backfill's bookkeeping, outside Knex's transaction: it builds indexes CONCURRENTLY.
import { goalSchemaMigration } from 'goal-backfill';

export const { up, down, config } = goalSchemaMigration();

import { backfillMigration } from '../src/migrations';

/**
 * The backfill. Not in Knex's transaction, on purpose: it commits page by page so that a
 * killed deploy resumes where it stopped. `down` deletes the backfilled goals nobody changed.
 */
export const { up, down, config } = backfillMigration('20261101000002_backfill_treatment_goals');

// migrations/20261201000001_backfill_treatment_goals.js: the backfill, outside Knex's transaction
// (it commits page by page, so a killed deploy resumes). GOAL_BACKFILL_* variables tune it.
import { backfillMigration } from 'goal-backfill';

export const { up, down, config } = backfillMigration();

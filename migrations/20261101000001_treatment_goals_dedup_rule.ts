import { dedupRuleMigration } from '../src/migrations';

/**
 * Makes the dedup rule the backfill's alone on a database migrated by goal-backfill 0.1.0: drops
 * the unique index it gave treatment_goals, CONCURRENTLY (so not in Knex's transaction); a no-op
 * on a database this version migrated. Its name sorts it after the schema and before the
 * backfill, so `migrate:down` still undoes the backfill first. `down` restores the index unless
 * the app has since entered a repeated goal.
 */
export const { up, down, config } = dedupRuleMigration('20261101000001_treatment_goals_dedup_rule');

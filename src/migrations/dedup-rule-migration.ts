import type { Knex } from 'knex';
import { dropGoalDedupIndex, restoreGoalDedupIndex } from '../schema/goal-schema';
import { ddlSettingsFrom } from './goal-schema-migration';
import {
  type KnexMigration,
  type MigrationOptions,
  migrationArguments,
  safeMigration,
} from './safe-migration';

/**
 * The migration that makes the dedup rule the backfill's alone on a database that goal-backfill
 * 0.1.0 migrated: that version gave its treatment_goals a unique index on (patient_id,
 * description key), which refused a clinician's goal whose text the patient already had. `up`
 * builds the non-unique lookup index and drops the unique one, both CONCURRENTLY (so not in
 * Knex's transaction); on any other database it changes nothing. `down` puts the unique index
 * back where `up` removed it, unless the app has since entered a repeated goal; then it changes
 * nothing and says so in one line. Takes an optional name and {@link MigrationOptions}
 * (`{ logger, schema }`), or the options alone.
 */
export function dedupRuleMigration(
  nameOrOptions?: string | MigrationOptions,
  maybeOptions?: MigrationOptions,
): KnexMigration {
  const [name, options] = migrationArguments('backfill_dedup_rule', nameOrOptions, maybeOptions);
  return safeMigration(
    name,
    {
      config: { transaction: false },
      async up(knex: Knex, { logger, env }) {
        const dropped = await dropGoalDedupIndex(knex, ddlSettingsFrom(env));
        logger.info('migration.dedup_rule', { uniqueIndexDropped: dropped });
      },
      async down(knex: Knex, { logger, env }) {
        const restored = await restoreGoalDedupIndex(knex, ddlSettingsFrom(env));
        if (restored.outcome === 'repeated_pairs') {
          logger.warn('rollback.dedup_index_not_restored', {
            repeatedPairs: restored.pairs,
            why: 'the app holds goals whose text repeats for a patient; a unique index would refuse them',
            next: 'nothing was changed; goal-backfill runs without it',
          });
        }
      },
    },
    options,
  );
}

import type { Knex } from 'knex';
import { sqlRunner } from '../db/sql-runner';
import { TEARDOWN_OVERRIDE_VARIABLE, teardownGoalSchema } from '../goals/teardown-guard';
import { assertAppSchemaCompatible } from '../schema/assert-app-schema-compatible';
import { createGoalSchema } from '../schema/goal-schema';
import { migrationLogger } from './migration-logger';
import { type KnexMigration, safeMigration } from './safe-migration';

/**
 * The migration that creates treatment_goals and the backfill's bookkeeping, in Knex's
 * transaction so the schema appears whole or not at all. Its `down` drops them only while no
 * clinician entered or changed a goal; otherwise it keeps them and says so in one line (see
 * {@link teardownGoalSchema}). GOAL_BACKFILL_ALLOW_TEARDOWN=1 drops them regardless.
 */
export function goalSchemaMigration(name = 'create_treatment_goals'): KnexMigration {
  return safeMigration(name, {
    async up(knex: Knex) {
      await assertAppSchemaCompatible(sqlRunner(knex));
      await createGoalSchema(knex);
    },
    async down(knex: Knex) {
      await teardownGoalSchema(knex, {
        allow: process.env[TEARDOWN_OVERRIDE_VARIABLE] === '1',
        logger: migrationLogger(),
      });
    },
  });
}

import type { Knex } from 'knex';
import type { BackfillEnv } from '../config/backfill-env';
import { sqlRunner } from '../db/sql-runner';
import { TEARDOWN_OVERRIDE_VARIABLE, teardownGoalSchema } from '../goals/teardown-guard';
import { rollbackBackfill } from '../rollback/rollback-backfill';
import { assertAppSchemaCompatible } from '../schema/assert-app-schema-compatible';
import { createGoalSchema } from '../schema/goal-schema';
import { type DdlSettings, DEFAULT_DDL_SETTINGS } from '../schema/lock-safe-ddl';
import { relationOwnership } from '../schema/ownership';
import { TABLES } from '../schema/tables';
import {
  type KnexMigration,
  type MigrationOptions,
  migrationArguments,
  safeMigration,
} from './safe-migration';

/** The lock_timeout and statement_timeout of the migrations' changes to the app's tables. */
export function ddlSettingsFrom({ lockTimeoutMs, statementTimeoutMs }: BackfillEnv): DdlSettings {
  return {
    ...DEFAULT_DDL_SETTINGS,
    lockTimeoutMs: lockTimeoutMs ?? DEFAULT_DDL_SETTINGS.lockTimeoutMs,
    statementTimeoutMs: statementTimeoutMs ?? DEFAULT_DDL_SETTINGS.statementTimeoutMs,
  };
}

/**
 * The migration that sets up treatment_goals for the backfill: it creates the table when the app
 * has none, adopts the app's own otherwise (see {@link createGoalSchema}), and creates the
 * backfill's bookkeeping. Not in Knex's transaction, on purpose: its indexes are built
 * CONCURRENTLY so the app's writes never wait for them, and each step is idempotent, so a failed
 * run is completed by running it again. Takes an optional name and {@link MigrationOptions}
 * (`{ logger, schema }`), or the options alone.
 *
 * Its `down` drops a treatment_goals this package created only while no clinician entered or
 * changed a goal; otherwise it keeps the schema and says so in one line (see
 * {@link teardownGoalSchema}); GOAL_BACKFILL_ALLOW_TEARDOWN=1 drops it regardless. An app's own
 * treatment_goals is never dropped: the backfilled goals nobody changed are deleted, and the
 * table gets back exactly the columns, indexes and triggers it had.
 */
export function goalSchemaMigration(
  nameOrOptions?: string | MigrationOptions,
  maybeOptions?: MigrationOptions,
): KnexMigration {
  const [name, options] = migrationArguments('create_treatment_goals', nameOrOptions, maybeOptions);
  return safeMigration(
    name,
    {
      config: { transaction: false },
      async up(knex: Knex, { logger, env }) {
        const db = sqlRunner(knex);
        await assertAppSchemaCompatible(db);
        const before = await relationOwnership(db, TABLES.goals);
        await createGoalSchema(knex, ddlSettingsFrom(env));
        logger.info('migration.goal_schema', {
          treatmentGoals: { missing: 'created', theirs: 'adopted', ours: 'kept' }[before],
        });
      },
      async down(knex: Knex, { logger, env }) {
        const db = sqlRunner(knex);
        const adopted =
          (await relationOwnership(db, TABLES.goals)) === 'theirs' &&
          (await relationOwnership(db, TABLES.runs)) === 'ours';
        // Normally the backfill migration's down has done it; a run outside the chain may not have.
        if (adopted) await rollbackBackfill({ knex, logger });
        await teardownGoalSchema(knex, {
          allow: process.env[TEARDOWN_OVERRIDE_VARIABLE] === '1',
          logger,
          settings: ddlSettingsFrom(env),
        });
      },
    },
    options,
  );
}

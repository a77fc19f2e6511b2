import type { Knex } from 'knex';
import { GOAL_STATUSES } from '../backfill/goal-rules';
import { INVOKERS, RUN_STATUSES } from '../bookkeeping/run-record';
import { DESCRIPTION_KEY_FUNCTION, GOAL_DEDUP_INDEX, SESSION_READ_INDEX, TABLES } from './tables';

function sqlList(values: readonly string[]): string {
  return values.map((value) => `'${value}'`).join(', ');
}

/**
 * Creates treatment_goals with the provenance the backfill needs, the backfill's bookkeeping
 * tables (goal_backfill_runs, goal_backfill_failures), the dedup key function and its unique
 * index, and the index the backfill reads sessions by. Expects users and therapy_sessions to
 * exist. Run it inside a transaction so the schema appears whole or not at all.
 */
export async function createGoalSchema(knex: Knex): Promise<void> {
  await knex.raw(
    `CREATE FUNCTION ${DESCRIPTION_KEY_FUNCTION}(description text) RETURNS bytea
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
       AS $$ SELECT sha256(convert_to(description, 'UTF8')) $$`,
  );
  await knex.raw(
    `COMMENT ON FUNCTION ${DESCRIPTION_KEY_FUNCTION}(text) IS
       'Dedup key of a goal description: SHA-256 of its UTF-8 bytes (btree cannot hold long text). Immutable because the database encoding cannot change.'`,
  );

  await knex.schema.createTable(TABLES.runs, (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.text('invoked_by').notNullable();
    table.text('status').notNullable();
    table.text('runner').nullable();
    table.integer('batch_size').notNullable();
    table.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('heartbeat_at', { useTz: true }).nullable();
    table.timestamp('finished_at', { useTz: true }).nullable();
    table.integer('resume_count').notNullable().defaultTo(0);
    table.uuid('cursor_patient_id').nullable();
    table.timestamp('cursor_session_date', { useTz: true, precision: 6 }).nullable();
    table.uuid('cursor_session_id').nullable();
    table.jsonb('counts').notNullable().defaultTo('{}');
    table.bigInteger('elapsed_ms').notNullable().defaultTo(0);
    table.text('error_code').nullable();
    table.text('error_message').nullable();
    table.check(`invoked_by IN (${sqlList(INVOKERS)})`, [], 'goal_backfill_runs_invoked_by_check');
    table.check(`status IN (${sqlList(RUN_STATUSES)})`, [], 'goal_backfill_runs_status_check');
    table.index(['status', 'started_at'], 'goal_backfill_runs_status_started_idx');
  });

  await knex.schema.createTable(TABLES.failures, (table) => {
    table.bigIncrements('id').primary();
    table.uuid('run_id').notNullable().references('id').inTable(TABLES.runs).onDelete('CASCADE');
    table.uuid('session_id').notNullable();
    table.uuid('patient_id').notNullable();
    table.text('sql_state').nullable();
    table.text('message').notNullable();
    table.timestamp('failed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['run_id'], 'goal_backfill_failures_run_idx');
    table.index(['session_id'], 'goal_backfill_failures_session_idx');
  });

  await knex.schema.createTable(TABLES.goals, (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table
      .uuid('patient_id')
      .notNullable()
      .references('id')
      .inTable(TABLES.users)
      .onDelete('CASCADE');
    table.uuid('therapist_id').nullable().references('id').inTable(TABLES.users);
    table
      .uuid('session_id')
      .nullable()
      .references('id')
      .inTable(TABLES.sessions)
      .onDelete('SET NULL');
    table.text('description').notNullable();
    table.text('category').notNullable();
    table.text('details').nullable();
    table.text('status').notNullable().defaultTo('assigned');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Provenance: clinician-entered goals keep the defaults.
    table.text('origin').notNullable().defaultTo('clinician');
    table.uuid('backfill_run_id').nullable();
    table.integer('source_item_index').nullable();
    table.timestamp('backfilled_at', { useTz: true }).nullable();
    table.check(`status IN (${sqlList(GOAL_STATUSES)})`, [], 'treatment_goals_status_check');
    table.check("origin IN ('clinician', 'backfill')", [], 'treatment_goals_origin_check');
    table.check(
      "origin = 'clinician' OR (backfilled_at IS NOT NULL AND source_item_index IS NOT NULL)",
      [],
      'treatment_goals_backfill_provenance_check',
    );
    table.index(['session_id'], 'treatment_goals_session_idx');
  });
  await knex.raw(
    `CREATE UNIQUE INDEX ${GOAL_DEDUP_INDEX}
       ON ${TABLES.goals} (patient_id, ${DESCRIPTION_KEY_FUNCTION}(description))`,
  );
  // Reading order of the backfill. On a large live table, create it CONCURRENTLY beforehand
  // (docs/operations.md); IF NOT EXISTS then skips it here.
  await knex.raw(
    `CREATE INDEX IF NOT EXISTS ${SESSION_READ_INDEX}
       ON ${TABLES.sessions} (patient_id, session_date, id)`,
  );
}

/**
 * Drops everything {@link createGoalSchema} created. It does not check what the table holds:
 * call {@link assertTeardownAllowed} first.
 */
export async function dropGoalSchema(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS ${SESSION_READ_INDEX}`);
  await knex.schema.dropTable(TABLES.goals);
  await knex.schema.dropTable(TABLES.failures);
  await knex.schema.dropTable(TABLES.runs);
  await knex.raw(`DROP FUNCTION ${DESCRIPTION_KEY_FUNCTION}(text)`);
}

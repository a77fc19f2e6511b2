import type { Knex } from 'knex';
import { BACKFILL_ORIGIN, GOAL_ORIGINS, GOAL_STATUSES } from './goal-vocabulary';
import { INVOKERS, RUN_STATUSES } from './run-vocabulary';
import { sqlRunner } from '../db/sql-runner';
import { GoalSchemaConflictError } from '../errors/goal-schema-conflict-error';
import { createGoalChangeTracking, dropGoalChangeTracking } from './goal-change-tracking';
import { markOwned, relationOwnership } from './ownership';
import { removeChangeCapture } from './session-change-capture';
import { DESCRIPTION_KEY_FUNCTION, GOAL_DEDUP_INDEX, SESSION_READ_INDEX, TABLES } from './tables';

function sqlList(values: readonly string[]): string {
  return values.map((value) => `'${value}'`).join(', ');
}

/** The tables {@link createGoalSchema} creates, in creation order. */
const GOAL_SCHEMA_TABLES = [TABLES.runs, TABLES.failures, TABLES.goals] as const;

/**
 * Creates treatment_goals with the provenance the backfill needs, the backfill's bookkeeping
 * tables (goal_backfill_runs, goal_backfill_failures), the dedup key function and its unique
 * index, and the index the backfill reads sessions by. Expects users and therapy_sessions to
 * exist. Run it inside a transaction so the schema appears whole or not at all.
 *
 * Every table and index it creates carries the ownership mark. It can run again over a schema
 * it created (a rollback keeps the schema while it holds clinical goals): what exists is kept,
 * what is missing is created. A table of the same name that this package did not create stops
 * it with {@link GoalSchemaConflictError} before anything changes.
 */
export async function createGoalSchema(knex: Knex): Promise<void> {
  const db = sqlRunner(knex);
  const existing = new Map<string, string>();
  for (const name of GOAL_SCHEMA_TABLES) existing.set(name, await relationOwnership(db, name));
  const foreign = GOAL_SCHEMA_TABLES.filter((name) => existing.get(name) === 'theirs');
  if (foreign.length > 0) throw new GoalSchemaConflictError(foreign);
  const missing = (name: string) => existing.get(name) === 'missing';

  await knex.raw(
    `CREATE OR REPLACE FUNCTION ${DESCRIPTION_KEY_FUNCTION}(description text) RETURNS bytea
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
       AS $$ SELECT sha256(convert_to(description, 'UTF8')) $$`,
  );
  await knex.raw(
    `COMMENT ON FUNCTION ${DESCRIPTION_KEY_FUNCTION}(text) IS
       'Dedup key of a goal description: SHA-256 of its UTF-8 bytes (btree cannot hold long text). Immutable because the database encoding cannot change.'`,
  );

  if (missing(TABLES.runs)) await createRunsTable(knex);
  if (missing(TABLES.failures)) await createFailuresTable(knex);
  if (missing(TABLES.goals)) await createGoalsTable(knex);
  for (const name of GOAL_SCHEMA_TABLES) if (missing(name)) await markOwned(db, 'TABLE', name);

  await knex.raw(
    `CREATE UNIQUE INDEX IF NOT EXISTS ${GOAL_DEDUP_INDEX}
       ON ${TABLES.goals} (patient_id, ${DESCRIPTION_KEY_FUNCTION}(description))`,
  );
  // Reading order of the backfill. On a large live table, create it CONCURRENTLY beforehand
  // (docs/operations.md); it then stays the operator's, unmarked, and no rollback drops it.
  if ((await relationOwnership(db, SESSION_READ_INDEX)) === 'missing') {
    await knex.raw(
      `CREATE INDEX ${SESSION_READ_INDEX} ON ${TABLES.sessions} (patient_id, session_date, id)`,
    );
    await markOwned(db, 'INDEX', SESSION_READ_INDEX);
  }
  await createGoalChangeTracking(knex);
}

function createRunsTable(knex: Knex): Knex.SchemaBuilder {
  return knex.schema.createTable(TABLES.runs, (table) => {
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
    // The pass the cursor belongs to and the snapshots it reads between (see ReadPass).
    table.jsonb('read_pass').nullable();
    table.jsonb('counts').notNullable().defaultTo('{}');
    table.bigInteger('elapsed_ms').notNullable().defaultTo(0);
    table.text('error_code').nullable();
    table.text('error_message').nullable();
    table.check(`invoked_by IN (${sqlList(INVOKERS)})`, [], 'goal_backfill_runs_invoked_by_check');
    table.check(`status IN (${sqlList(RUN_STATUSES)})`, [], 'goal_backfill_runs_status_check');
    table.index(['status', 'started_at'], 'goal_backfill_runs_status_started_idx');
  });
}

function createFailuresTable(knex: Knex): Knex.SchemaBuilder {
  return knex.schema.createTable(TABLES.failures, (table) => {
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
}

function createGoalsTable(knex: Knex): Knex.SchemaBuilder {
  return knex.schema.createTable(TABLES.goals, (table) => {
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
    table.check(`origin IN (${sqlList(GOAL_ORIGINS)})`, [], 'treatment_goals_origin_check');
    table.check(
      `origin <> '${BACKFILL_ORIGIN}' OR (backfilled_at IS NOT NULL AND source_item_index IS NOT NULL)`,
      [],
      'treatment_goals_backfill_provenance_check',
    );
    table.index(['session_id'], 'treatment_goals_session_idx');
  });
}

/**
 * Drops what {@link createGoalSchema} created: only tables and indexes that carry the ownership
 * mark, so an index an operator built beforehand stays. It does not check what the table holds:
 * call {@link assertTeardownAllowed} first.
 */
export async function dropGoalSchema(knex: Knex): Promise<void> {
  await dropGoalChangeTracking(knex);
  const db = sqlRunner(knex);
  await removeChangeCapture(db);
  if ((await relationOwnership(db, SESSION_READ_INDEX)) === 'ours') {
    await knex.raw(`DROP INDEX ${SESSION_READ_INDEX}`);
  }
  for (const name of [...GOAL_SCHEMA_TABLES].reverse()) {
    if ((await relationOwnership(db, name)) === 'ours') await knex.schema.dropTable(name);
  }
  await knex.raw(`DROP FUNCTION IF EXISTS ${DESCRIPTION_KEY_FUNCTION}(text)`);
}

import type { Knex } from 'knex';
import { sqlRunner } from '../db/sql-runner';
import { AppSchemaIncompatibleError, ConfigError, GoalSchemaConflictError } from '../errors';
import {
  CONSTRAINTS,
  DESCRIPTION_KEY_FUNCTION,
  GOAL_DEDUP_INDEX,
  GOAL_LOOKUP_INDEX,
  GOAL_PROVENANCE,
  GOAL_STATUSES,
  INDEXES,
  INVOKERS,
  RUN_STATUSES,
  SESSION_READ_INDEX,
  TABLES,
} from '../names';
import { assertAppTablesPresent } from './app-tables';
import {
  createGoalChangeTracking,
  dropGoalChangeTracking,
  removeChangeCapture,
} from './change-tracking';
import {
  goalTableProblems,
  PROVENANCE_COLUMNS,
  readGoalTableFacts,
  readGoalTableMapping,
} from './goal-table';
import {
  buildIndexConcurrently,
  type DdlSettings,
  DEFAULT_DDL_SETTINGS,
  dropIndexConcurrently,
  lockSafeDdl,
  markColumnOwned,
  markOwned,
  relationOwnership,
} from './lock-safe-ddl';

function sqlList(values: readonly string[]): string {
  return values.map((value) => `'${value}'`).join(', ');
}

/** The bookkeeping tables {@link createGoalSchema} creates, in creation order. */
const BOOKKEEPING_TABLES = [TABLES.runs, TABLES.failures] as const;

/** The index the backfill's dedup check reads: not unique, so it refuses no write of the app. */
const LOOKUP_INDEX = {
  name: GOAL_LOOKUP_INDEX,
  table: TABLES.goals,
  keys: `(patient_id, ${DESCRIPTION_KEY_FUNCTION}(description))`,
};

/** The index the backfill reads sessions by: patient, then date, then id. */
const READ_INDEX = {
  name: SESSION_READ_INDEX,
  table: TABLES.sessions,
  keys: '(patient_id, session_date, id)',
};

function refuseTransaction(knex: Knex, what: string): void {
  if ((knex as unknown as { isTransaction?: boolean }).isTransaction === true) {
    throw new ConfigError([
      `${what} needs a Knex instance, not a transaction: it builds indexes CONCURRENTLY, ` +
        'which PostgreSQL runs outside transactions. In a migration, export `const config = { transaction: false }`',
    ]);
  }
}

/**
 * Sets up treatment_goals for the backfill, whoever made it, and the backfill's bookkeeping
 * tables (goal_backfill_runs, goal_backfill_failures). Expects users and therapy_sessions to
 * exist where the connection's search_path looks, and throws {@link SchemaNotReadyError}
 * naming that schema otherwise, before it changes anything.
 *
 * There is one path. When treatment_goals is missing, this package first creates it as an app
 * would have it (marked as its own), and from there on treats it like a treatment_goals the app
 * made: it checks that the backfill can write into it, adds the provenance columns (nullable,
 * no defaults) and the change-tracking trigger, each marked as this package's, and builds the
 * non-unique lookup index of the dedup check and the index the backfill reads sessions by, both
 * CONCURRENTLY. Nothing it adds refuses or alters a write of the app.
 *
 * It checks everything before it changes anything: an app's treatment_goals the backfill cannot
 * write into stops it with {@link AppSchemaIncompatibleError} naming each column, and a
 * bookkeeping table of the same name that this package did not create stops it with
 * {@link GoalSchemaConflictError}. Every change to a table the app writes runs under
 * `lock_timeout` and is tried again when the app holds the table (see lock-safe-ddl.ts). It
 * runs outside a transaction, step by step, and each step is idempotent: after a failure,
 * running it again goes on from where it stopped.
 */
export async function createGoalSchema(
  knex: Knex,
  settings: DdlSettings = DEFAULT_DDL_SETTINGS,
): Promise<void> {
  refuseTransaction(knex, 'createGoalSchema');
  const db = sqlRunner(knex);
  await assertAppTablesPresent(db);
  const bookkeeping = new Map<string, string>();
  for (const name of BOOKKEEPING_TABLES) bookkeeping.set(name, await relationOwnership(db, name));
  const foreign = BOOKKEEPING_TABLES.filter((name) => bookkeeping.get(name) === 'theirs');
  if (foreign.length > 0) throw new GoalSchemaConflictError(foreign);
  const goals = await relationOwnership(db, TABLES.goals);
  const facts = await readGoalTableFacts(db);
  if (goals !== 'missing' && facts) {
    const problems = await goalTableProblems(knex, facts, goals);
    if (problems.length > 0) throw new AppSchemaIncompatibleError(problems);
  }

  // Every statement of the migration runs under the timeouts, even where it locks nothing of the
  // app's, so that the migration's DDL reads (and lints, npm run lint:migrations) as one rule.
  await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
    await trx.raw(
      `CREATE OR REPLACE FUNCTION ${DESCRIPTION_KEY_FUNCTION}(description text) RETURNS bytea
         LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
         AS $$ SELECT sha256(convert_to(description, 'UTF8')) $$`,
    );
    await trx.raw(
      `COMMENT ON FUNCTION ${DESCRIPTION_KEY_FUNCTION}(text) IS
         'Dedup key of a goal description: SHA-256 of its UTF-8 bytes (btree cannot hold long text). Immutable because the database encoding cannot change.'`,
    );
  });
  for (const [name, create] of [
    [TABLES.runs, createRunsTable],
    [TABLES.failures, createFailuresTable],
  ] as const) {
    if (bookkeeping.get(name) !== 'missing') continue;
    await lockSafeDdl(knex, settings, name, async (trx) => {
      await create(trx);
      await markOwned(sqlRunner(trx), 'TABLE', name);
    });
  }
  if (goals === 'missing') {
    // Its foreign keys take a lock on users and therapy_sessions, briefly, under lock_timeout.
    await lockSafeDdl(knex, settings, TABLES.users, async (trx) => {
      await createGoalsTable(trx);
      await markOwned(sqlRunner(trx), 'TABLE', TABLES.goals);
    });
  }
  await addProvenanceColumns(knex, settings);
  await createGoalChangeTracking(knex, settings, await readGoalTableMapping(db));
  await buildIndexConcurrently(knex, settings, LOOKUP_INDEX);
  // An index of that name built beforehand (docs/operations.md) stays the operator's, unmarked,
  // and no rollback drops it.
  await buildIndexConcurrently(knex, settings, READ_INDEX);
}

/**
 * Adds the provenance columns treatment_goals lacks, in one ALTER TABLE that changes the catalog
 * only (nullable, no default: no row is rewritten or scanned), and marks each as this package's,
 * in the same short transaction under `lock_timeout`.
 */
async function addProvenanceColumns(knex: Knex, settings: DdlSettings): Promise<void> {
  const facts = await readGoalTableFacts(sqlRunner(knex));
  const missing = PROVENANCE_COLUMNS.filter((column) => !facts?.columns.has(column.name));
  if (missing.length === 0) return;
  await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
    await trx.raw(
      `ALTER TABLE ${TABLES.goals} ${missing
        .map((column) => `ADD COLUMN IF NOT EXISTS ${column.name} ${column.type}`)
        .join(', ')}`,
    );
    for (const column of missing) {
      await markColumnOwned(sqlRunner(trx), TABLES.goals, column.name);
    }
  });
}

/**
 * Whether treatment_goals is one that goal-backfill 0.1.0 created: its own table, whose
 * provenance columns, unlike this version's, carry no mark of their own.
 */
async function createdByFirstVersion(knex: Knex): Promise<boolean> {
  const db = sqlRunner(knex);
  if ((await relationOwnership(db, TABLES.goals)) !== 'ours') return false;
  const origin = (await readGoalTableFacts(db))?.columns.get(GOAL_PROVENANCE.origin);
  return origin !== undefined && !origin.marked;
}

/**
 * The `up` of migration 20261101000001_treatment_goals_dedup_rule, for a treatment_goals that
 * goal-backfill 0.1.0 created: it had a unique index on (patient_id, description key), which
 * made the backfill's dedup rule the app's too. The lookup index takes its place first, then the unique one is
 * dropped, both CONCURRENTLY. Any other table is left as it is (this version never builds the
 * unique index). Returns whether it dropped it.
 */
export async function dropGoalDedupIndex(
  knex: Knex,
  settings: DdlSettings = DEFAULT_DDL_SETTINGS,
): Promise<boolean> {
  refuseTransaction(knex, 'dropGoalDedupIndex');
  if (!(await createdByFirstVersion(knex))) return false;
  await buildIndexConcurrently(knex, settings, LOOKUP_INDEX);
  return dropIndexConcurrently(
    knex,
    settings,
    { name: GOAL_DEDUP_INDEX, table: TABLES.goals },
    true,
  );
}

/** What {@link restoreGoalDedupIndex} did. */
export type DedupIndexRestore =
  | { outcome: 'restored' | 'not_needed' }
  | { outcome: 'repeated_pairs'; pairs: number };

/**
 * The `down` of migration 20261101000001_treatment_goals_dedup_rule: puts the unique index of
 * goal-backfill 0.1.0 back on a table that version created, CONCURRENTLY, so that version's
 * code runs on it again. When the
 * table now holds a (patient, description) twice, which the app may do since the `up`, the index
 * cannot be built: it changes nothing and says how many pairs repeat.
 */
export async function restoreGoalDedupIndex(
  knex: Knex,
  settings: DdlSettings = DEFAULT_DDL_SETTINGS,
): Promise<DedupIndexRestore> {
  refuseTransaction(knex, 'restoreGoalDedupIndex');
  if (!(await createdByFirstVersion(knex))) return { outcome: 'not_needed' };
  const [row] = await sqlRunner(knex).rows<{ pairs: unknown }>(
    `SELECT count(*) AS pairs FROM (
       SELECT 1 FROM ${TABLES.goals}
        GROUP BY patient_id, ${DESCRIPTION_KEY_FUNCTION}(description) HAVING count(*) > 1) r`,
  );
  const pairs = Number(row?.pairs ?? 0);
  if (pairs > 0) return { outcome: 'repeated_pairs', pairs };
  await buildIndexConcurrently(knex, settings, {
    name: GOAL_DEDUP_INDEX,
    table: TABLES.goals,
    keys: LOOKUP_INDEX.keys,
    unique: true,
  });
  return { outcome: 'restored' };
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
    table.check(`invoked_by IN (${sqlList(INVOKERS)})`, [], CONSTRAINTS.runInvokedBy);
    table.check(`status IN (${sqlList(RUN_STATUSES)})`, [], CONSTRAINTS.runStatus);
    table.index(['status', 'started_at'], INDEXES.runStatusStarted);
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
    table.index(['run_id'], INDEXES.failureRun);
    table.index(['session_id'], INDEXES.failureSession);
  });
}

/**
 * treatment_goals as the app has it, with the app's columns and rules (statuses, foreign keys)
 * and nothing of the backfill's: {@link createGoalSchema} then adds the provenance as it does to
 * an app's own table.
 */
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
    table.check(`status IN (${sqlList(GOAL_STATUSES)})`, [], CONSTRAINTS.goalStatus);
    table.index(['session_id'], INDEXES.goalSession);
  });
}

/**
 * Removes what {@link createGoalSchema} added. A treatment_goals this package created is
 * dropped whole; from one the app made, it removes the change-tracking trigger, the lookup index
 * and the provenance columns, each only when it carries this package's mark, so the table's
 * columns, types, defaults, constraints, indexes and triggers are exactly the app's again. Then
 * the bookkeeping tables, the read index (when this package built it), change capture and the
 * functions. It does not check what the table holds: call {@link assertTeardownAllowed} first.
 * Outside a transaction, like {@link createGoalSchema}.
 */
export async function dropGoalSchema(
  knex: Knex,
  settings: DdlSettings = DEFAULT_DDL_SETTINGS,
): Promise<void> {
  refuseTransaction(knex, 'dropGoalSchema');
  const db = sqlRunner(knex);
  await removeChangeCapture(db);
  await dropGoalChangeTracking(knex, settings);
  const goals = await relationOwnership(db, TABLES.goals);
  if (goals === 'ours') {
    await lockSafeDdl(knex, settings, TABLES.users, async (trx) => {
      await trx.raw(`DROP TABLE ${TABLES.goals}`);
    });
  } else if (goals === 'theirs') {
    await dropIndexConcurrently(knex, settings, LOOKUP_INDEX);
    const facts = await readGoalTableFacts(db);
    const added = [...(facts?.columns.values() ?? [])].filter((column) => column.marked);
    if (added.length > 0) {
      await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
        await trx.raw(
          `ALTER TABLE ${TABLES.goals} ${added
            .map((column) => `DROP COLUMN IF EXISTS ${column.name}`)
            .join(', ')}`,
        );
      });
    }
  }
  await dropIndexConcurrently(knex, settings, READ_INDEX);
  for (const name of [...BOOKKEEPING_TABLES].reverse()) {
    if ((await relationOwnership(db, name)) !== 'ours') continue;
    await lockSafeDdl(knex, settings, name, async (trx) => {
      await trx.raw(`DROP TABLE ${name}`);
    });
  }
  await lockSafeDdl(knex, settings, TABLES.goals, async (trx) => {
    await trx.raw(`DROP FUNCTION IF EXISTS ${DESCRIPTION_KEY_FUNCTION}(text)`);
  });
}

import type { Knex } from 'knex';
import { type SqlRunner, sqlRunner } from '../db/sql-runner';
import {
  AppSchemaIncompatibleError,
  type AppSchemaProblem,
  type NameLookup,
  SchemaNotReadyError,
} from '../errors';
import { APP_CONSTRAINTS, COLUMNS, TABLES } from '../names';
import { markOwned, relationOwnership } from './lock-safe-ddl';

/**
 * The app's tables as the backfill needs them: what it requires of an existing `users` and
 * `therapy_sessions` ({@link assertAppSchemaCompatible}), how it creates them when missing
 * ({@link createMissingAppTables}), and the check that every table a run uses is where the
 * connection looks ({@link assertSchemaReady}).
 */

const SESSION_COLUMN_TYPES: Readonly<Record<(typeof COLUMNS.sessions)[number], readonly string[]>> =
  {
    id: ['uuid'],
    patient_id: ['uuid'],
    therapist_id: ['uuid'],
    session_date: ['timestamp with time zone', 'timestamp without time zone'],
    extracted_notes: ['jsonb'],
  };

/**
 * The columns the backfill reads or references in the app's tables, with the types it accepts.
 * Extra columns, constraints and rows of the app are left alone.
 */
export const APP_COLUMN_REQUIREMENTS = [
  { table: TABLES.users, column: 'id', types: ['uuid'], unique: true },
  ...COLUMNS.sessions.map((column) => ({
    table: TABLES.sessions,
    column,
    types: SESSION_COLUMN_TYPES[column],
    unique: column === 'id',
  })),
];

interface ColumnFacts {
  table_name: string;
  column_name: string;
  data_type: string | null;
  is_unique: boolean;
}

/**
 * Throws {@link AppSchemaIncompatibleError}, naming every table and column at once, when an
 * existing `users` or `therapy_sessions` lacks a column the backfill needs, has it with another
 * type, or (for `id`) without a primary key or unique constraint of its own. Missing tables are
 * not problems: the chain creates them. It reads the catalog only.
 */
export async function assertAppSchemaCompatible(db: SqlRunner): Promise<void> {
  const facts = await db.rows<ColumnFacts>(
    `SELECT r.table_name, r.column_name, format_type(a.atttypid, a.atttypmod) AS data_type,
            EXISTS (SELECT 1 FROM pg_index i
                     WHERE i.indrelid = a.attrelid AND i.indisunique AND i.indpred IS NULL
                       AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum) AS is_unique
       FROM unnest(CAST(? AS text[]), CAST(? AS text[])) AS r(table_name, column_name)
       JOIN pg_attribute a
         ON a.attrelid = to_regclass(r.table_name) AND a.attname = r.column_name
        AND NOT a.attisdropped`,
    [APP_COLUMN_REQUIREMENTS.map((r) => r.table), APP_COLUMN_REQUIREMENTS.map((r) => r.column)],
  );
  const [present] = await db.rows<{ tables: string[] }>(
    `SELECT coalesce(array_agg(t), '{}') AS tables
       FROM unnest(CAST(? AS text[])) AS t WHERE to_regclass(t) IS NOT NULL`,
    [[...new Set(APP_COLUMN_REQUIREMENTS.map((r) => r.table))]],
  );
  const existingTables = new Set(present?.tables ?? []);

  const problems: AppSchemaProblem[] = [];
  for (const requirement of APP_COLUMN_REQUIREMENTS) {
    const { table, column, types, unique } = requirement;
    if (!existingTables.has(table)) continue;
    const fact = facts.find((f) => f.table_name === table && f.column_name === column);
    const wanted = types.join(' or ');
    if (!fact) {
      problems.push({ table, column, problem: `is missing; the backfill needs it as ${wanted}` });
    } else if (!(types as readonly string[]).includes(fact.data_type ?? '')) {
      problems.push({
        table,
        column,
        problem: `is ${fact.data_type}; the backfill needs ${wanted}`,
      });
    } else if (unique && !fact.is_unique) {
      problems.push({
        table,
        column,
        problem: `has no primary key or unique constraint; ${TABLES.goals} references it`,
      });
    }
  }
  if (problems.length > 0) throw new AppSchemaIncompatibleError(problems);
}

function createUsers(knex: Knex): Knex.SchemaBuilder {
  return knex.schema.createTable(TABLES.users, (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.text('role').notNullable();
    table.text('full_name').notNullable();
    table.text('email').notNullable().unique();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.check("role IN ('patient', 'therapist')", [], APP_CONSTRAINTS.userRole);
  });
}

function createSessions(knex: Knex): Knex.SchemaBuilder {
  return knex.schema.createTable(TABLES.sessions, (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.uuid('patient_id').notNullable().references('id').inTable(TABLES.users);
    table.uuid('therapist_id').nullable().references('id').inTable(TABLES.users);
    table.timestamp('session_date', { useTz: true }).notNullable();
    table.jsonb('extracted_notes').nullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

/** The app tables that were missing and have now been created, in creation order. */
export type CreatedAppTables = (typeof TABLES.users | typeof TABLES.sessions)[];

/**
 * Creates `users` and `therapy_sessions` when they are missing, in the shape the app has them,
 * marked as this package's (see lock-safe-ddl.ts). Tables that exist are not touched: call
 * {@link assertAppSchemaCompatible} first so that a misfit fails before anything changes.
 */
export async function createMissingAppTables(knex: Knex): Promise<CreatedAppTables> {
  const db = sqlRunner(knex);
  const created: CreatedAppTables = [];
  for (const [name, create] of [
    [TABLES.users, createUsers],
    [TABLES.sessions, createSessions],
  ] as const) {
    if ((await relationOwnership(db, name)) !== 'missing') continue;
    await create(knex);
    await markOwned(db, 'TABLE', name);
    created.push(name);
  }
  return created;
}

/** The app's own tables: a schema without them is the wrong one, or the app's chain is behind. */
const APP_TABLES: readonly string[] = [TABLES.users, TABLES.sessions];

/**
 * Throws {@link SchemaNotReadyError} unless every table of `names` resolves by the session's
 * search_path, naming the missing ones and where they were looked for.
 */
async function assertTablesPresent(db: SqlRunner, names: readonly string[]): Promise<void> {
  const [row] = await db.rows<{ missing: string[]; search_path: string; schemas: string[] }>(
    `SELECT coalesce((SELECT array_agg(name ORDER BY position)
                        FROM unnest(CAST(? AS text[])) WITH ORDINALITY AS t(name, position)
                       WHERE to_regclass(quote_ident(name)) IS NULL), '{}') AS missing,
            current_setting('search_path') AS search_path,
            CAST(current_schemas(false) AS text[]) AS schemas`,
    [names],
  );
  const missing = row?.missing ?? [];
  if (missing.length === 0) return;
  const lookup: NameLookup = { searchPath: row?.search_path ?? '', schemas: row?.schemas ?? [] };
  const app = missing.some((name) => APP_TABLES.includes(name));
  throw new SchemaNotReadyError(missing, lookup, app);
}

/** Throws {@link SchemaNotReadyError} unless every table the backfill uses exists. */
export function assertSchemaReady(db: SqlRunner): Promise<void> {
  return assertTablesPresent(db, [TABLES.sessions, TABLES.goals, TABLES.runs, TABLES.failures]);
}

/** Throws {@link SchemaNotReadyError} unless the app's users and therapy_sessions exist. */
export function assertAppTablesPresent(db: SqlRunner): Promise<void> {
  return assertTablesPresent(db, APP_TABLES);
}

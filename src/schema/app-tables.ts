import type { Knex } from 'knex';
import { sqlRunner } from '../db/sql-runner';
import { markOwned, relationOwnership } from './ownership';
import { TABLES } from './tables';

/**
 * The columns the backfill reads or references in the app's tables, with the types it accepts.
 * Extra columns, constraints and rows of the app are left alone.
 */
export const APP_COLUMN_REQUIREMENTS = [
  { table: TABLES.users, column: 'id', types: ['uuid'], unique: true },
  { table: TABLES.sessions, column: 'id', types: ['uuid'], unique: true },
  { table: TABLES.sessions, column: 'patient_id', types: ['uuid'], unique: false },
  { table: TABLES.sessions, column: 'therapist_id', types: ['uuid'], unique: false },
  {
    table: TABLES.sessions,
    column: 'session_date',
    types: ['timestamp with time zone', 'timestamp without time zone'],
    unique: false,
  },
  { table: TABLES.sessions, column: 'extracted_notes', types: ['jsonb'], unique: false },
] as const;

function createUsers(knex: Knex): Knex.SchemaBuilder {
  return knex.schema.createTable(TABLES.users, (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.text('role').notNullable();
    table.text('full_name').notNullable();
    table.text('email').notNullable().unique();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.check("role IN ('patient', 'therapist')", [], 'users_role_check');
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
 * marked as this package's (see ownership.ts). Tables that exist are not touched: call
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

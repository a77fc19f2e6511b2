import type { Knex } from 'knex';

/**
 * The app's existing tables, as the app already has them. In a real deployment they exist
 * before this chain; here they give it its base.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.text('role').notNullable();
    table.text('full_name').notNullable();
    table.text('email').notNullable().unique();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.check("role IN ('patient', 'therapist')", [], 'users_role_check');
  });
  await knex.schema.createTable('therapy_sessions', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.uuid('patient_id').notNullable().references('id').inTable('users');
    table.uuid('therapist_id').nullable().references('id').inTable('users');
    table.timestamp('session_date', { useTz: true }).notNullable();
    table.jsonb('extracted_notes').nullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('therapy_sessions');
  await knex.schema.dropTable('users');
}

// The app's existing tables (a minimal stand-in for the app's real migrations).
exports.up = async (knex) => {
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('role').notNullable();
    t.text('full_name').notNullable();
    t.text('email').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('therapy_sessions', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('patient_id').notNullable().references('id').inTable('users');
    t.uuid('therapist_id').nullable().references('id').inTable('users');
    t.timestamp('session_date', { useTz: true }).notNullable();
    t.jsonb('extracted_notes').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
};

exports.down = async (knex) => {
  await knex.schema.dropTable('therapy_sessions');
  await knex.schema.dropTable('users');
};

// The app's own tables, from long before goal-backfill: extra columns, its own constraints.
exports.up = async (knex) => {
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('role').notNullable();
    t.text('full_name').notNullable();
    t.text('email').notNullable().unique();
    t.text('phone').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('therapy_sessions', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('patient_id').notNullable().references('id').inTable('users');
    t.uuid('therapist_id').nullable().references('id').inTable('users');
    t.timestamp('session_date', { useTz: true }).notNullable();
    t.jsonb('extracted_notes').nullable();
    t.text('room').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
};

exports.down = async (knex) => {
  await knex.schema.dropTable('therapy_sessions');
  await knex.schema.dropTable('users');
};

// The variant of the example app whose goal-tracking feature shipped before goal-backfill: its
// own treatment_goals, with varchar columns, an enum status, a target_date of its own, an index
// of its own and foreign keys to users and therapy_sessions. goal-backfill adopts this table.
exports.up = async (knex) => {
  await knex.raw(
    "CREATE TYPE goal_status AS ENUM ('assigned', 'in_progress', 'completed', 'abandoned')",
  );
  await knex.schema.createTable('treatment_goals', (t) => {
    t.bigIncrements('id');
    t.uuid('patient_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.uuid('therapist_id').nullable().references('id').inTable('users');
    t.uuid('session_id')
      .nullable()
      .references('id')
      .inTable('therapy_sessions')
      .onDelete('SET NULL');
    t.string('description', 200).notNullable();
    t.string('category', 40).notNullable().defaultTo('general');
    t.text('details').nullable();
    t.specificType('status', 'goal_status').notNullable().defaultTo('assigned');
    t.date('target_date').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['patient_id', 'status'], 'treatment_goals_patient_status_idx');
  });
};

exports.down = async (knex) => {
  await knex.schema.dropTable('treatment_goals');
  await knex.raw('DROP TYPE goal_status');
};

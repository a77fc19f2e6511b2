// Another of the app's own migrations: a table that references users.
exports.up = (knex) =>
  knex.schema.createTable('invoices', (t) => {
    t.bigIncrements('id');
    t.uuid('patient_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.integer('amount_cents').notNullable();
  });

exports.down = (knex) => knex.schema.dropTable('invoices');

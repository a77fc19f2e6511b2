// The consuming app's own knexfile: goal-backfill needs nothing from it but a PostgreSQL connection.
module.exports = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { directory: './migrations' },
};

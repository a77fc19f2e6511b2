// knexfile.ts: the Knex CLI loads it, and the .ts migrations, through sucrase/register/ts.
import type { Knex } from 'knex';

const config: Knex.Config = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { directory: './migrations' },
};

export default config;

import knexFactory, { type Knex } from 'knex';

/** A database the benchmark creates on the server and drops when it is done. */
export interface ScratchDatabase {
  url: string;
  knex: Knex;
  drop(): Promise<void>;
}

/** Creates an empty database next to the one `serverUrl` names, and opens a small pool on it. */
export async function createScratchDatabase(
  serverUrl: string,
  name: string,
): Promise<ScratchDatabase> {
  const admin = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.raw(`CREATE DATABASE ${name}`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const knex = knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 4 } });
  return {
    url: url.toString(),
    knex,
    async drop() {
      await knex.destroy();
      const dropper = knexFactory({
        client: 'pg',
        connection: serverUrl,
        pool: { min: 0, max: 1 },
      });
      try {
        await dropper.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.destroy();
      }
    },
  };
}

import type { Knex } from 'knex';
import { asDatabaseUnreachable } from '../../db/connection-failure';
import { createCliKnex } from './create-cli-knex';

/** Calls `onConnected` once the pool has made its first connection. */
function watchFirstConnection(knex: Knex, onConnected: () => void): void {
  const pool = knex.client.pool as { on?: (event: string, listener: () => void) => void };
  pool?.on?.('createSuccess', onConnected);
}

/**
 * Opens the database at DATABASE_URL, hands it to `work`, and destroys it afterwards, however
 * `work` ends. A failure to connect becomes a DatabaseUnreachableError naming the host.
 */
export async function withDatabase<T>(
  env: Readonly<Record<string, string | undefined>>,
  work: (knex: Knex) => Promise<T>,
): Promise<T> {
  const { knex, target } = createCliKnex(env);
  let connected = false;
  watchFirstConnection(knex, () => {
    connected = true;
  });
  try {
    return await work(knex);
  } catch (err) {
    throw asDatabaseUnreachable(err, target, { connected }) ?? err;
  } finally {
    await knex.destroy();
  }
}

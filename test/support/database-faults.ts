import type { Knex } from 'knex';
import { BACKFILL_LOCK_KEY, WORKERS_LOCK_KEY } from '../../src/db/advisory-lock';
import { knexFor } from './test-database';

/**
 * A trigger that rejects goals whose description holds `marker`, quoting the description in
 * its error message and the details in its DETAIL, as a careless app trigger would: the
 * backfill must isolate those sessions and never repeat the text.
 */
export async function installRejectingTrigger(knex: Knex, marker: string): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION reject_marked_goal() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.description LIKE '%${marker}%' THEN
        RAISE EXCEPTION 'rejected goal "%"', NEW.description USING DETAIL = NEW.details;
      END IF;
      RETURN NEW;
    END $$`);
  await knex.raw('DROP TRIGGER IF EXISTS reject_marked_goal ON treatment_goals');
  await knex.raw(
    'CREATE TRIGGER reject_marked_goal BEFORE INSERT ON treatment_goals FOR EACH ROW EXECUTE FUNCTION reject_marked_goal()',
  );
}

export async function dropRejectingTrigger(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS reject_marked_goal ON treatment_goals');
}

/** Holds the backfill lock from another connection, as a second operator's run would. */
export async function holdBackfillLock<T>(
  url: string,
  work: (pid: number) => Promise<T>,
): Promise<T> {
  const other = knexFor(url, 1);
  try {
    const connection = await other.client.acquireConnection();
    try {
      await other
        .raw("SELECT set_config('application_name', 'operator-two', false)")
        .connection(connection);
      await other
        .raw('SELECT pg_advisory_lock(?::bigint)', [BACKFILL_LOCK_KEY])
        .connection(connection);
      const result = await other.raw('SELECT pg_backend_pid() AS pid').connection(connection);
      try {
        return await work(result.rows[0].pid as number);
      } finally {
        await other
          .raw('SELECT pg_advisory_unlock(?::bigint)', [BACKFILL_LOCK_KEY])
          .connection(connection);
      }
    } finally {
      await other.client.releaseConnection(connection);
    }
  } finally {
    await other.destroy();
  }
}

/**
 * A session of another run that holds the workers' lock shared, as a worker of an earlier
 * invocation still finishing its page would, named `applicationName`. Resolves its backend pid
 * and how to let it go (which also closes it).
 */
export async function holdWorkersLock(
  url: string,
  applicationName: string,
): Promise<{ pid: number; release: () => Promise<void> }> {
  const other = knexFor(url, 1);
  const connection = await other.client.acquireConnection();
  await other
    .raw("SELECT set_config('application_name', ?, false)", [applicationName])
    .connection(connection);
  await other
    .raw('SELECT pg_advisory_lock_shared(CAST(? AS bigint))', [WORKERS_LOCK_KEY])
    .connection(connection);
  const result = await other.raw('SELECT pg_backend_pid() AS pid').connection(connection);
  return {
    pid: result.rows[0].pid as number,
    release: async () => {
      await other.client.releaseConnection(connection);
      await other.destroy();
    },
  };
}

/**
 * Breaks the connection of `knex`'s pool whose backend is `pid` on the client's side only, as a
 * network fault would: its socket is destroyed while the server's session lives on until it
 * next reads from it. Resolves whether the pool held such a connection.
 */
export function severClientSide(knex: Knex, pid: number): boolean {
  const pool = (knex.client as { pool?: { used: { resource: unknown }[] } }).pool;
  for (const { resource } of pool?.used ?? []) {
    const client = resource as { processID?: number; connection: { stream: { destroy(): void } } };
    if (client.processID === pid) {
      client.connection.stream.destroy();
      return true;
    }
  }
  return false;
}

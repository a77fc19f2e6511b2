import type { Knex } from 'knex';
import { queryRows } from '../../src/db/sql-runner';

/**
 * Builds the app's own tables the way an app that predates this chain has them: extra columns,
 * an extra table that references users, its own constraints, and rows in all of them.
 */
export async function createAppOwnedTables(knex: Knex): Promise<void> {
  // One statement per call: PGlite refuses several in one.
  await knex.raw(`
    CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      role text NOT NULL,
      full_name text NOT NULL,
      email text NOT NULL UNIQUE,
      phone text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  await knex.raw(`
    CREATE TABLE therapy_sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      patient_id uuid NOT NULL REFERENCES users (id),
      therapist_id uuid REFERENCES users (id),
      session_date timestamptz NOT NULL,
      extracted_notes jsonb,
      room text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  await knex.raw(`
    CREATE TABLE invoices (
      id bigserial PRIMARY KEY,
      patient_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      amount_cents integer NOT NULL
    )`);
}

/** One digest per app table: equal digests mean the same rows, every column included. */
export async function appTableDigests(knex: Knex): Promise<Record<string, string | null>> {
  const digests: Record<string, string | null> = {};
  for (const table of ['users', 'therapy_sessions', 'invoices']) {
    const [row] = queryRows<{ present: boolean }>(
      await knex.raw('SELECT to_regclass(?) IS NOT NULL AS present', [table]),
    );
    if (!row?.present) {
      digests[table] = null;
      continue;
    }
    const [digest] = queryRows<{ md5: string | null; n: string }>(
      await knex.raw(
        `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS md5, count(*) AS n FROM ?? t`,
        [table],
      ),
    );
    digests[table] = `${digest?.n}:${digest?.md5}`;
  }
  return digests;
}

/** The names of the completed migrations of the chain. */
export async function completedMigrations(knex: Knex): Promise<string[]> {
  const [completed] = (await knex.migrate.list()) as [{ name: string }[], unknown];
  return completed.map((migration) => migration.name);
}

/** Whether a table exists in the search path. */
export async function tableExists(knex: Knex, name: string): Promise<boolean> {
  return knex.schema.hasTable(name);
}

import type { Knex } from 'knex';
import { ConfigError } from '../errors';
import { TABLES } from '../names';
import { PinnedConnection, pinSearchPath, restoreSearchPath } from './connection';
import { type SqlRunner, sqlRunner } from './sql-runner';

type Acquire = () => Promise<unknown>;
type Release = (connection: unknown) => Promise<unknown>;

/** Knex's client, as far as a view replaces how it lends connections. */
interface LendingClient {
  acquireConnection: Acquire;
  releaseConnection: Release;
}

/**
 * Refuses, with one line that says what to set, a schema this database lacks or this role may
 * not use. The name is compared as the catalog spells it, never folded or parsed.
 */
export async function assertSchemaUsable(db: SqlRunner, schema: string): Promise<void> {
  const [row] = await db.rows<{ present: boolean; usable: boolean | null }>(
    `SELECT n.oid IS NOT NULL AS present, has_schema_privilege(n.oid, 'USAGE') AS usable
       FROM (SELECT 1) AS one LEFT JOIN pg_namespace n ON n.nspname = ?`,
    [schema],
  );
  const shown = JSON.stringify(schema);
  if (!row?.present) {
    throw new ConfigError([
      `schema ${shown} does not exist in this database: set GOAL_BACKFILL_SCHEMA (--schema in ` +
        `the CLI) to the schema that holds the app's ${TABLES.sessions}, spelled as the catalog has it`,
    ]);
  }
  if (row.usable === false) {
    throw new ConfigError([
      `schema ${shown} exists, but this database role may not use it: GRANT USAGE ON SCHEMA ` +
        `${shown} to the role in DATABASE_URL, or set GOAL_BACKFILL_SCHEMA (--schema) to another`,
    ]);
  }
}

/**
 * A view of `knex` that shares its pool, and whose connections resolve names in `schema` for as
 * long as the view lends them: pinned when a connection is taken from the pool, the app's
 * search_path put back before it returns. A connection whose search_path cannot be put back is
 * marked disposed, so the pool never hands it to the app again.
 */
function schemaView(knex: Knex, schema: string): Knex {
  const view = knex.withUserParams({ ...knex.userParams });
  const client = view.client as LendingClient;
  const acquire = client.acquireConnection;
  const release = client.releaseConnection;
  client.acquireConnection = async function (this: LendingClient) {
    const connection = await acquire.call(this);
    try {
      await pinSearchPath(new PinnedConnection(knex, connection), schema);
    } catch (err) {
      await release.call(this, connection);
      throw err;
    }
    return connection;
  };
  client.releaseConnection = async function (this: LendingClient, connection: unknown) {
    try {
      await restoreSearchPath(new PinnedConnection(knex, connection));
    } catch {
      // Knex's pool drops a connection so marked instead of lending it again.
      (connection as { __knex__disposed?: unknown }).__knex__disposed =
        'goal-backfill could not restore its search_path';
    }
    return release.call(this, connection);
  };
  return view;
}

/** Runs `work` with `search_path` set to `schema` in `trx`, and gives the old one back after. */
async function inTransactionSchema<T>(
  trx: Knex.Transaction,
  schema: string,
  work: (knex: Knex) => Promise<T>,
): Promise<T> {
  const db = sqlRunner(trx);
  const [row] = await db.rows<{ saved: string }>(
    "SELECT current_setting('search_path') AS saved, set_config('search_path', quote_ident(?), true)",
    [schema],
  );
  // Knex records the migration in the same transaction, by the app's search_path.
  const restore = () => db.rows("SELECT set_config('search_path', ?, true)", [row?.saved ?? '']);
  let result: T;
  try {
    result = await work(trx);
  } catch (err) {
    // An aborted transaction refuses even this; it rolls back, and its setting with it.
    await restore().catch(() => undefined);
    throw err;
  }
  await restore();
  return result;
}

/**
 * Runs `work` on `knex` (a Knex instance or a transaction) with every unqualified name resolved
 * in `schema`: the app's tables, this package's tables, functions, triggers and indexes, and
 * every catalog lookup (`to_regclass`, `current_schema()`). With `schema` null, `work` gets
 * `knex` as it is, so names resolve by its connections' own search_path (a knexfile's
 * `searchPath`, a role's or database's setting). Throws {@link ConfigError} for a schema the
 * database lacks or the role may not use, before `work` starts.
 */
export async function inSchema<T>(
  knex: Knex,
  schema: string | null,
  work: (knex: Knex) => Promise<T>,
): Promise<T> {
  if (schema === null) return work(knex);
  await assertSchemaUsable(sqlRunner(knex), schema);
  if ((knex as unknown as { isTransaction?: boolean }).isTransaction === true) {
    return inTransactionSchema(knex as Knex.Transaction, schema, work);
  }
  return work(schemaView(knex, schema));
}

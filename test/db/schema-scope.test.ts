import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { inSchema } from '../../src/db/schema-scope';
import { queryRows } from '../../src/db/sql-runner';
import { ConfigError, SchemaNotReadyError } from '../../src/errors';
import { silentLogger } from '../../src/logging';
import type { KnexMigration } from '../../src/migrations';
import {
  appTablesMigration,
  backfillMigration,
  dedupRuleMigration,
  goalSchemaMigration,
} from '../../src/migrations';
import { rollbackBackfill } from '../../src/rollback';
import { getBackfillStatus } from '../../src/status';
import { countOf } from '../seed/seeded-data';
import { insertSessions, insertUsers } from '../support/fixtures';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

/**
 * The library's `schema` option on a schema whose name needs quoting (`Tenant A`: a capital
 * and a space), on a Knex whose own connections look elsewhere (`searchPath: ['elsewhere',
 * 'public']`): every name resolves in the schema while the library holds a connection, and the
 * pool gets each connection back with the app's search_path.
 */

const SCHEMA = 'Tenant A';

let db: TestDatabase;
/** The app's Knex: its connections look in `elsewhere`, then `public`. */
let knex: Knex;
/** Knex on `Tenant A` alone, for fixtures and direct reads. */
let tenant: Knex;

function chain(schema: string): Record<string, KnexMigration> {
  return {
    '01_app_tables': appTablesMigration({ schema, logger: silentLogger }),
    '02_goal_schema': goalSchemaMigration({ schema, logger: silentLogger }),
    '03_dedup_rule': dedupRuleMigration({ schema, logger: silentLogger }),
    '04_backfill': backfillMigration({ schema, logger: silentLogger }),
  };
}

function migrationSource(migrations: Record<string, KnexMigration>): Knex.MigratorConfig {
  return {
    tableName: 'tenant_migrations',
    migrationSource: {
      getMigrations: async () => Object.keys(migrations),
      getMigrationName: (name: string) => name,
      getMigration: async (name: string) => migrations[name] as KnexMigration,
    },
  };
}

/** The search_path and the kept copy of every connection the pool holds now. */
async function pooledSessions(knex: Knex): Promise<{ searchPath: string; kept: string | null }[]> {
  const pool = knex.client.pool as { numFree(): number; numUsed(): number };
  const held: unknown[] = [];
  try {
    // Takes every idle connection at once, so each is seen.
    const idle = pool.numFree();
    for (let i = 0; i < Math.max(idle, 1); i += 1) held.push(await knex.client.acquireConnection());
    const sessions = [];
    for (const connection of held) {
      const [row] = queryRows<{ search_path: string; kept: string | null }>(
        await knex
          .raw(
            `SELECT current_setting('search_path') AS search_path,
                    nullif(current_setting('goal_backfill.app_search_path', true), '') AS kept`,
          )
          .connection(connection as never),
      );
      sessions.push({ searchPath: row?.search_path ?? '', kept: row?.kept ?? null });
    }
    return sessions;
  } finally {
    for (const connection of held) await knex.client.releaseConnection(connection);
  }
}

beforeAll(async () => {
  if (onPglite) return;
  db = await createTestDatabase();
  await db.knex.raw(`CREATE SCHEMA "${SCHEMA}"`);
  await db.knex.raw('CREATE SCHEMA elsewhere');
  knex = knexFactory({
    client: 'pg',
    connection: db.url,
    searchPath: ['elsewhere', 'public'],
    pool: { min: 0, max: 3 },
    // The refused migration's lines, which Knex would print, are not what this file checks.
    log: { warn: () => undefined, error: () => undefined },
  });
  tenant = knexFactory({
    client: 'pg',
    connection: db.url,
    searchPath: [SCHEMA],
    pool: { min: 0, max: 1 },
  });
}, 60_000);

afterAll(async () => {
  await tenant?.destroy();
  await knex?.destroy();
  await db?.drop();
});

describe.skipIf(onPglite)('the schema option', () => {
  it('migrates the chain into the schema, and the pool gets back the app search_path', async () => {
    // A Knex without a searchPath of its own: one that names another schema is refused.
    await db.knex.migrate.latest(migrationSource(chain(SCHEMA)));

    const [row] = queryRows<{ tables: string[] }>(
      await db.knex.raw(
        `SELECT CAST(array_agg(c.relname ORDER BY c.relname) AS text[]) AS tables FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind = 'r'`,
        [SCHEMA],
      ),
    );
    expect(row?.tables).toEqual([
      'goal_backfill_failures',
      'goal_backfill_runs',
      'goal_backfill_session_changes',
      'therapy_sessions',
      'treatment_goals',
      'users',
    ]);
    const elsewhere = await countOf(
      db.knex,
      "SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('elsewhere') ",
    );
    expect(elsewhere).toBe(0);
    for (const session of await pooledSessions(db.knex)) {
      expect(session).toEqual({ searchPath: '"$user", public', kept: null });
    }
  });

  it('backfills, reports and rolls back there, on connections it gives back as they were', async () => {
    const patients = await insertUsers(tenant, 1, 'patient');
    await insertSessions(tenant, [
      {
        patientId: patients[0] ?? '',
        sessionDate: '2024-03-01T00:00:00Z',
        notes: { action_items: [{ task: 'Breathe' }, { task: 'Walk' }] },
      },
    ]);

    const result = await runBackfill({ knex, logger: silentLogger, schema: SCHEMA });
    expect(result).toMatchObject({ goalsCreated: 2, errors: 0, outcome: 'completed' });
    const backfilled = `SELECT count(*) AS n FROM "${SCHEMA}".treatment_goals WHERE origin = 'backfill'`;
    expect(await countOf(db.knex, backfilled)).toBe(2);

    const status = await getBackfillStatus({ knex, schema: SCHEMA });
    expect(status.goals.unchangedBackfill).toBe(2);
    expect(status.recentRuns[0]?.status).toBe('succeeded');

    const rolledBack = await rollbackBackfill({ knex, logger: silentLogger, schema: SCHEMA });
    expect(rolledBack.deleted).toBe(2);
    expect(await countOf(db.knex, backfilled)).toBe(0);

    for (const session of await pooledSessions(knex)) {
      expect(session).toEqual({ searchPath: 'elsewhere, public', kept: null });
    }
  });

  it('refuses a schema option the Knex searchPath contradicts, in one line, before any change', async () => {
    const refused = await knex.migrate
      .latest(migrationSource(chain(SCHEMA)))
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toBe(
      `the schema is given as the migration's schema option "${SCHEMA}" and the knexfile's ` +
        'searchPath "elsewhere": give it in one place, or the same in each',
    );
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM elsewhere.tenant_migrations')).toBe(0);
  });

  it('pins a transaction for the work only, and gives it back its search_path', async () => {
    await knex.transaction(async (trx) => {
      const inside = await inSchema(trx, SCHEMA, async (scoped) =>
        queryRows<{ path: string }>(
          await scoped.raw("SELECT current_setting('search_path') AS path"),
        ),
      );
      expect(inside[0]?.path).toBe(`"${SCHEMA}"`);
      const [after] = queryRows<{ path: string }>(
        await trx.raw("SELECT current_setting('search_path') AS path"),
      );
      expect(after?.path).toBe('elsewhere, public');
    });
  });

  it('names the schema it looked in, and refuses one that does not exist, before any change', async () => {
    const missing = await runBackfill({ knex, logger: silentLogger }).catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(SchemaNotReadyError);
    expect((missing as SchemaNotReadyError).message).toMatch(
      /^therapy_sessions, treatment_goals, goal_backfill_runs, goal_backfill_failures not found in schemas "elsewhere", "public" \(search_path elsewhere, public\)/,
    );

    const nowhere = await getBackfillStatus({ knex, schema: 'tenant a' }).catch(
      (err: unknown) => err,
    );
    expect(nowhere).toBeInstanceOf(ConfigError);
    expect((nowhere as ConfigError).message).toBe(
      'schema "tenant a" does not exist in this database: set GOAL_BACKFILL_SCHEMA (--schema in ' +
        "the CLI) to the schema that holds the app's therapy_sessions, spelled as the catalog has it",
    );
    const twoSchemas = await rollbackBackfill({
      knex,
      logger: silentLogger,
      schema: 'a,b',
    }).catch((err: unknown) => err);
    expect(twoSchemas).toBeInstanceOf(ConfigError);
    // The migration's run and the backfill's: the refused calls wrote nothing.
    expect(await countOf(db.knex, `SELECT count(*) AS n FROM "${SCHEMA}".goal_backfill_runs`)).toBe(
      2,
    );
  });
});

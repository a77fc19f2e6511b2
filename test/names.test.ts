import { beforeAll, describe, expect, it } from 'vitest';
import { PinnedConnection } from '../src/db/connection';
import { isOwnIdentifier } from '../src/db/failures';
import {
  COLUMNS,
  CONSTRAINTS,
  DESCRIPTION_KEY_FUNCTION,
  GOAL_DEDUP_INDEX,
  GOAL_LOOKUP_INDEX,
  INDEXES,
  ROUTINES,
  SESSION_READ_INDEX,
  TABLES,
} from '../src/names';
import { startChangeCapture } from '../src/schema/change-tracking';
import { onPglite, type TestDatabase, useMigratedDatabase } from './support/test-database';

/**
 * names.ts against a migrated database: every name it gives the database is in the catalog,
 * and the error filter (db/failures.ts), which repeats only these names, knows every one there.
 */

const OWN_TABLES = [TABLES.goals, TABLES.runs, TABLES.failures, TABLES.sessionChanges];

describe.skipIf(onPglite)(
  "the package's own identifiers, checked against a migrated database",
  () => {
    let db: TestDatabase;

    useMigratedDatabase((created) => {
      db = created;
    });

    beforeAll(async () => {
      // A real run creates the change-capture table; an interrupted one leaves it.
      const connection = await db.knex.client.acquireConnection();
      try {
        await startChangeCapture(new PinnedConnection(db.knex, connection), {
          lockTimeoutMs: 1000,
        });
      } finally {
        await db.knex.client.releaseConnection(connection);
      }
    });

    it('finds every table, column, index, constraint, function and trigger it names', async () => {
      const tables = await db.knex.raw(
        `SELECT table_name AS name, column_name AS column FROM information_schema.columns
          WHERE table_schema = current_schema()`,
      );
      const columnsOf = new Map<string, Set<string>>();
      for (const row of tables.rows as { name: string; column: string }[]) {
        const columns = columnsOf.get(row.name) ?? new Set<string>();
        columns.add(row.column);
        columnsOf.set(row.name, columns);
      }
      expect(Object.values(TABLES).filter((table) => !columnsOf.has(table))).toEqual([]);
      const own = { goals: TABLES.goals, runs: TABLES.runs, failures: TABLES.failures };
      for (const [key, table] of Object.entries(own)) {
        const listed = COLUMNS[key as keyof typeof own];
        expect([...(columnsOf.get(table) ?? [])].sort(), table).toEqual([...listed].sort());
      }
      expect([...(columnsOf.get(TABLES.sessionChanges) ?? [])].sort()).toEqual(
        [...COLUMNS.sessionChanges].sort(),
      );
      const sessionColumns = columnsOf.get(TABLES.sessions) ?? new Set<string>();
      expect(COLUMNS.sessions.filter((column) => !sessionColumns.has(column))).toEqual([]);

      const { rows: indexRows } = await db.knex.raw(
        'SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()',
      );
      const indexes = new Set((indexRows as { name: string }[]).map((row) => row.name));
      const named = [SESSION_READ_INDEX, GOAL_LOOKUP_INDEX, ...Object.values(INDEXES)];
      expect(named.filter((name) => !indexes.has(name))).toEqual([]);
      // The chain drops the unique index of 0.1.0: the dedup rule is the backfill's alone.
      expect(indexes.has(GOAL_DEDUP_INDEX)).toBe(false);

      const { rows: constraintRows } = await db.knex.raw(
        `SELECT conname AS name FROM pg_constraint
          WHERE connamespace = current_schema()::regnamespace`,
      );
      const constraints = new Set((constraintRows as { name: string }[]).map((row) => row.name));
      // origin_check and backfill_provenance_check are those of the table 0.1.0 created.
      const of010 = new Set<string>([CONSTRAINTS.goalOrigin, CONSTRAINTS.goalProvenance]);
      const current = Object.values(CONSTRAINTS).filter((name) => !of010.has(name));
      expect(current.filter((name) => !constraints.has(name))).toEqual([]);

      const { rows: routineRows } = await db.knex.raw(
        `SELECT proname AS name FROM pg_proc WHERE pronamespace = current_schema()::regnamespace
          UNION SELECT tgname FROM pg_trigger WHERE NOT tgisinternal`,
      );
      const routines = new Set((routineRows as { name: string }[]).map((row) => row.name));
      const namedRoutines = [DESCRIPTION_KEY_FUNCTION, ...Object.values(ROUTINES)];
      expect(namedRoutines.filter((name) => !routines.has(name))).toEqual([]);
    });

    it('knows every constraint and index of its tables, and the session read index', async () => {
      const { rows } = await db.knex.raw(
        `SELECT conname AS name FROM pg_constraint WHERE conrelid::regclass::text = ANY(?)
       UNION SELECT indexname FROM pg_indexes
        WHERE schemaname = current_schema() AND (tablename = ANY(?) OR indexname = ?)`,
        [OWN_TABLES, OWN_TABLES, SESSION_READ_INDEX],
      );
      const names = (rows as { name: string }[]).map((row) => row.name);
      expect(names.length).toBeGreaterThan(10);
      expect(names.filter((name) => !isOwnIdentifier('constraint', name))).toEqual([]);
    });

    it('knows every column of its tables', async () => {
      const { rows } = await db.knex.raw(
        `SELECT column_name AS name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = ANY(?)`,
        [OWN_TABLES],
      );
      const names = (rows as { name: string }[]).map((row) => row.name);
      expect(names.filter((name) => !isOwnIdentifier('column', name))).toEqual([]);
    });

    it('names nothing else', () => {
      for (const kind of ['table', 'constraint', 'column'] as const) {
        expect(isOwnIdentifier(kind, 'users_email_unique')).toBe(false);
        expect(isOwnIdentifier(kind, 'public')).toBe(false);
      }
    });
  },
);

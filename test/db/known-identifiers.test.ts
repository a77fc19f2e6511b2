import { beforeAll, describe, expect, it } from 'vitest';
import { isOwnIdentifier } from '../../src/db/known-identifiers';
import { PinnedConnection } from '../../src/db/pinned-connection';
import { startChangeCapture } from '../../src/schema/session-change-capture';
import { SESSION_READ_INDEX, TABLES } from '../../src/schema/tables';
import { onPglite, useMigratedDatabase, type TestDatabase } from '../support/test-database';

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

    it('knows every table it reads or writes', () => {
      for (const table of Object.values(TABLES)) expect(isOwnIdentifier('table', table)).toBe(true);
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

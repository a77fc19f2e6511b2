import { describe, expect, it } from 'vitest';
import { queryRows, sqlRunner, toCount } from '../../src/db/sql-runner';
import { TABLES } from '../../src/names';
import { insertUsers } from '../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';

describe('queryRows', () => {
  it.each([
    ['a node-postgres result', { rows: [{ n: 1 }], rowCount: 1 }, [{ n: 1 }]],
    ['an array of rows', [{ n: 2 }], [{ n: 2 }]],
    ['a result without rows', { command: 'SET' }, []],
    ['nothing', undefined, []],
    ['null', null, []],
  ])('reads the rows of %s', (_, result, rows) => {
    expect(queryRows(result)).toEqual(rows);
  });
});

describe('toCount', () => {
  it.each([
    [42, 42],
    ['42', 42],
    [42n, 42],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    [null, 0],
    [undefined, 0],
    [{}, 0],
  ])('reads %o as %d', (value, count) => {
    expect(toCount(value)).toBe(count);
  });
});

describe('sqlRunner', () => {
  let db: TestDatabase;
  useMigratedDatabase((created) => {
    db = created;
  });

  it('binds positional values and answers the rows, counts included', async () => {
    const ids = await insertUsers(db.knex, 3, 'therapist');
    const runner = sqlRunner(db.knex);
    const rows = await runner.rows<{ id: string }>(
      `SELECT id FROM ${TABLES.users} WHERE role = ? AND id = ANY(CAST(? AS uuid[])) ORDER BY id`,
      ['therapist', ids.slice(0, 2)],
    );
    expect(rows.map((row) => row.id)).toEqual(ids.slice(0, 2).sort());
    const [row] = await runner.rows<{ n: unknown }>(`SELECT count(*) AS n FROM ${TABLES.users}`);
    expect(toCount(row?.n)).toBe(3);
  });

  it('runs inside the transaction it was given', async () => {
    const rolledBack = new Error('roll back');
    const outcome = await db.knex
      .transaction(async (trx) => {
        await insertUsers(trx, 2, 'patient');
        const [row] = await sqlRunner(trx).rows<{ n: unknown }>(
          `SELECT count(*) AS n FROM ${TABLES.users}`,
        );
        expect(toCount(row?.n)).toBe(2);
        throw rolledBack;
      })
      .catch((error: unknown) => error);
    expect(outcome).toBe(rolledBack);
    const [row] = await sqlRunner(db.knex).rows<{ n: unknown }>(
      `SELECT count(*) AS n FROM ${TABLES.users}`,
    );
    expect(toCount(row?.n)).toBe(0);
  });
});

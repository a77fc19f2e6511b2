import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAIN_MIGRATIONS_TABLE } from '../../src/names';
import { startBin } from '../cli/bin-process';
import { type CommandResult, runCommand } from '../support/run-command';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

const PASSWORD = 'pw-never-printed';

/** A local port nobody listens on: one that was just listened on and closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}

function knexMigrate(url: string): Promise<CommandResult> {
  return runCommand('npx', ['knex', 'migrate:latest'], { DATABASE_URL: url, NODE_ENV: undefined });
}

/**
 * stderr without the warning node-postgres emits through Node for `sslmode=require` (that the
 * mode means verify-full), which Node prints for every such connection, failed or not.
 */
function withoutSslModeWarning(stderr: string): string {
  return stderr.replace(
    /^\(node:\d+\) Warning: SECURITY WARNING: The SSL modes[\s\S]*?^\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)\n/m,
    '',
  );
}

/** The one stderr line: no stack, no second line, never the password. */
function onlyLine(result: { stdout: string; stderr: string }): string {
  const stderr = withoutSslModeWarning(result.stderr);
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  return lines[0] ?? '';
}

/** The Knex CLI and the operator CLI say the same line about `url`, each in its own form. */
async function expectSameLine(url: string, line: string): Promise<void> {
  const knex = await knexMigrate(url);
  // The Knex CLI exits 1 on every error; the operator CLI exits 2 (docs/cli.md).
  expect(knex.code).toBe(1);
  expect(onlyLine(knex)).toBe(`DatabaseUnreachableError: ${line}`);
  const cli = await startBin(['run'], { DATABASE_URL: url }).done;
  expect(cli.code).toBe(2);
  expect(onlyLine(cli)).toBe(`goal-backfill: error: ${line} [DATABASE_UNREACHABLE]`);
}

const TO_DO = 'check DATABASE_URL and that the server is up';

describe('npx knex migrate:latest when the database cannot be reached', () => {
  it('a closed port: one line naming host, port and database, without the password', async () => {
    const port = await closedPort();
    await expectSameLine(
      `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/app`,
      `cannot reach the database at postgres://postgres@127.0.0.1:${port}/app ` +
        `(connection refused [ECONNREFUSED]): ${TO_DO}`,
    );
  });

  // The local test server has no SSL; the database is real, so nothing may be created in it.
  describe.skipIf(onPglite)('sslmode=require against a server without SSL', () => {
    let db: TestDatabase;

    beforeAll(async () => {
      db = await createTestDatabase();
    });

    afterAll(async () => {
      await db.drop();
    });

    it('one line that says to check sslmode, and nothing is created in the database', async () => {
      const url = new URL(db.url);
      url.password = PASSWORD;
      url.searchParams.set('sslmode', 'require');
      await expectSameLine(
        url.toString(),
        `cannot reach the database at postgres://${url.username}@${url.host}/${db.name} ` +
          `(the server does not support SSL (check sslmode)): ${TO_DO}`,
      );
      const tables = await db.knex.raw<{ rows: { name: string | null }[] }>(
        'SELECT to_regclass(?)::text AS name UNION ALL SELECT to_regclass(?)::text',
        [CHAIN_MIGRATIONS_TABLE, 'treatment_goals'],
      );
      expect(tables.rows.map((row) => row.name)).toEqual([null, null]);
    });
  });
});

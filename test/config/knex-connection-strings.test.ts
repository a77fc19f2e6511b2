import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completedMigrations } from '../support/app-database';
import { runCommand } from '../support/run-command';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db.drop();
});

const SOCKET_DIRECTORY = '/var/run/postgresql';
const PASSWORD = 'Not-Printed-7731';

// Connection strings node-postgres accepts, each pointed at this file's database.
describe.skipIf(onPglite)('every connection string node-postgres accepts', () => {
  it.each([
    [
      'a Unix socket in ?host= with an empty host part',
      (name: string) => `postgres://postgres:${PASSWORD}@/${name}?host=${SOCKET_DIRECTORY}`,
    ],
    [
      'sslmode=disable and options',
      (name: string) =>
        `postgresql://postgres:${PASSWORD}@127.0.0.1:5432/${name}?sslmode=disable&options=-c%20statement_timeout%3D60000`,
    ],
  ])('%s: migrate:latest and status work, and no output carries the password', async (_, urlOf) => {
    const env = {
      DATABASE_URL: urlOf(db.name),
      NODE_ENV: undefined,
      GOAL_BACKFILL_LOG_LEVEL: 'info',
    };
    const migrate = await runCommand('npx', ['knex', 'migrate:latest'], env);
    const status = await runCommand('npm', ['run', '--silent', 'backfill', '--', 'status'], env);

    expect(migrate.code).toBe(0);
    expect(status.code).toBe(0);
    expect(await completedMigrations(db.knex)).toHaveLength(4);
    for (const output of [migrate.stdout, migrate.stderr, status.stdout, status.stderr]) {
      expect(output).not.toContain(PASSWORD);
    }
  });
});

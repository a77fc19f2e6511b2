import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linesOf } from '../cli/cli-harness';
import { countOf } from '../seed/seeded-data';
import { insertSessions, insertUsers } from '../support/fixtures';
import { runCommand } from '../support/run-command';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

/**
 * GOAL_BACKFILL_LOG_FORMAT=json through the Knex CLI: every line this project writes, the
 * migrations' events, Knex's own lines (through its `log` hooks) and the failure the Knex CLI
 * prints, is one JSON object. The Knex CLI's own banners (`Using environment`, `Batch 1 run`)
 * are not Knex's log: they go to stdout as the Knex CLI writes them.
 */

/** The Knex CLI's own lines on stdout, which no knexfile setting reaches. */
const KNEX_CLI_BANNER =
  /^(Requiring external module|Using environment|Working directory changed|Batch \d+ (run|rolled back)|Already (up to date|at the base migration))/;

let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await db.drop();
});

function knexCli(args: string[], env: Record<string, string | undefined>) {
  return runCommand('npx', ['knex', ...args], {
    DATABASE_URL: db.url,
    GOAL_BACKFILL_LOG_FORMAT: 'json',
    GOAL_BACKFILL_LOG_LEVEL: 'info',
    NODE_ENV: undefined,
    ...env,
  });
}

/** Every stderr line parsed (each must be one JSON event); stdout holds only the banners. */
function jsonLines(run: { stdout: string; stderr: string }): Record<string, unknown>[] {
  for (const line of linesOf(run.stdout)) expect(line).toMatch(KNEX_CLI_BANNER);
  return linesOf(run.stderr).map((line) => {
    const event = JSON.parse(line) as Record<string, unknown>;
    expect(event).toMatchObject({ level: expect.any(String), message: expect.any(String) });
    expect(event.timestamp).toEqual(expect.any(String));
    return event;
  });
}

describe.skipIf(onPglite)('the Knex CLI with GOAL_BACKFILL_LOG_FORMAT=json', () => {
  it('migrates and rolls back with every line of this project JSON', async () => {
    const up = await knexCli(['migrate:up'], {});
    expect(up.code, up.stderr).toBe(0);
    const patients = await insertUsers(db.knex, 1, 'patient');
    await insertSessions(db.knex, [
      {
        patientId: patients[0] ?? '',
        sessionDate: '2024-01-01T00:00:00Z',
        notes: { action_items: [{ task: 'PLANTED-task' }] },
      },
    ]);

    const latest = await knexCli(['migrate:latest'], {});
    expect(latest.code, latest.stderr).toBe(0);
    expect(jsonLines(latest).map((event) => event.message)).toEqual(
      expect.arrayContaining(['migration.goal_schema', 'backfill.start', 'backfill.finish']),
    );
    expect(latest.stderr).not.toContain('PLANTED');
    expect(
      await countOf(db.knex, "SELECT count(*) AS n FROM treatment_goals WHERE origin = 'backfill'"),
    ).toBe(1);

    const rollback = await knexCli(['migrate:rollback', '--all'], {});
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(jsonLines(rollback).map((event) => event.message)).toEqual(
      expect.arrayContaining(['rollback.finish']),
    );
  });

  it("a migration's failure is one JSON line, and Knex's own warnings about it are JSON too", async () => {
    const failed = await knexCli(['migrate:latest'], {
      GOAL_BACKFILL_BATCH_SIZE: 'lots',
      GOAL_BACKFILL_LOG_LEVEL: 'debug',
    });

    expect(failed.code).toBe(1);
    const events = jsonLines(failed);
    expect(events.filter((event) => event.level === 'error')).toEqual([
      expect.objectContaining({
        message: 'migration.failed',
        migration: '20261101000000_create_app_tables',
        direction: 'up',
        code: 'CONFIG_INVALID',
        reason: expect.stringContaining('GOAL_BACKFILL_BATCH_SIZE must be a whole number'),
      }),
    ]);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'debug',
          message: 'knex.warning',
          notice: 'migration file "20261101000000_create_app_tables.ts" failed',
        }),
      ]),
    );
    expect(await countOf(db.knex, 'SELECT count(*) AS n FROM goal_backfill_migrations')).toBe(0);
  });

  it('a bad setting in the knexfile is one JSON line', async () => {
    const refused = await knexCli(['migrate:latest'], { GOAL_BACKFILL_SCHEMA: 'app,public' });

    expect(refused.code).toBe(1);
    expect(jsonLines(refused)).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'knex_cli.failed',
        step: 'knexfile (development)',
        code: 'CONFIG_INVALID',
      }),
    ]);
  });

  it("an app's knexfile with the log hooks: the missing schema is JSON, Knex's lines too", async () => {
    const failed = await knexCli(
      ['--knexfile', 'test/support/app-schema-knexfile.js', 'migrate:latest'],
      {
        APP_KNEXFILE_SCHEMA: '',
        GOAL_BACKFILL_LOG_LEVEL: 'debug',
      },
    );

    expect(failed.code).toBe(1);
    const events = jsonLines(failed);
    expect(events.filter((event) => event.level === 'error')).toEqual([
      expect.objectContaining({
        message: 'migration.failed',
        code: 'SCHEMA_NOT_READY',
        reason: expect.stringMatching(/^users, therapy_sessions not found in schema "public"/),
      }),
    ]);
    expect(events.map((event) => event.message)).toContain('knex.warning');
  });
});

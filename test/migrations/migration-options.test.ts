import type { Knex } from 'knex';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FieldsFirstLogger, fieldsFirst } from '../../src/logging';
import {
  appTablesMigration,
  backfillMigration,
  dedupRuleMigration,
  goalSchemaMigration,
  type KnexMigration,
  type MigrationOptions,
} from '../../src/migrations';
import { countOf } from '../seed/seeded-data';
import { CapturingLogger } from '../support/capturing-logger';
import { insertSessions, insertUsers } from '../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The migrations take the app's logger: `goalSchemaMigration({ logger })`, or with a name,
 * `backfillMigration('name', { logger })`. Every event goes to it, the failure too, and nothing
 * to the default logger's stderr.
 */

let db: TestDatabase;

function migrationSource(migrations: Record<string, KnexMigration>): Knex.MigratorConfig {
  return {
    tableName: 'app_migrations',
    migrationSource: {
      getMigrations: async () => Object.keys(migrations),
      getMigrationName: (name: string) => name,
      getMigration: async (name: string) => migrations[name] as KnexMigration,
    },
  };
}

function chain(options: MigrationOptions): Record<string, KnexMigration> {
  return {
    '01_app_tables': appTablesMigration('01_app_tables', options),
    '02_goal_schema': goalSchemaMigration(options),
    '03_dedup_rule': dedupRuleMigration('03_dedup_rule', options),
    '04_backfill': backfillMigration(options),
  };
}

/** What the default logger (and anything else) wrote to this process's stderr meanwhile. */
function watchStderr(): { text: () => string } {
  let written = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  return { text: () => written };
}

beforeAll(async () => {
  db = await createTestDatabase();
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a migration given the app logger', () => {
  it('sends every event of the chain, up and down, to it and none to stderr', async () => {
    const logger = new CapturingLogger();
    const stderr = watchStderr();
    const migrations = chain({ logger });

    await db.knex.migrate.up(migrationSource(migrations));
    const patients = await insertUsers(db.knex, 1, 'patient');
    await insertSessions(db.knex, [
      {
        patientId: patients[0] ?? '',
        sessionDate: '2024-01-01T00:00:00Z',
        notes: { action_items: [{ task: 'Walk', details: 'PLANTED-detail' }] },
      },
    ]);
    await db.knex.migrate.latest(migrationSource(migrations));
    expect(
      await countOf(db.knex, "SELECT count(*) AS n FROM treatment_goals WHERE origin = 'backfill'"),
    ).toBe(1);
    await db.knex.migrate.rollback(migrationSource(migrations), true);

    const names = logger.events.map(({ level, event }) => `${level} ${event}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'info migration.app_tables',
        'info migration.goal_schema',
        'info migration.dedup_rule',
        'info backfill.start',
        'info backfill.finish',
        'info rollback.finish',
        'info migration.app_tables_kept',
      ]),
    );
    expect(logger.named('backfill.finish')[0]?.fields).toMatchObject({ goalsCreated: 1 });
    expect(logger.named('migration.goal_schema')[0]?.fields).toEqual({ treatmentGoals: 'created' });
    expect(logger.text()).not.toContain('PLANTED');
    expect(logger.text()).not.toContain('Walk');
    expect(stderr.text()).toBe('');
  });

  it('receives the failure as migration.failed, with its code and no server text', async () => {
    const logger = new CapturingLogger();
    const stderr = watchStderr();
    await db.knex.raw('DROP TABLE therapy_sessions CASCADE');

    const failed = await db.knex.migrate
      .latest(migrationSource({ '02_goal_schema': goalSchemaMigration({ logger }) }))
      .catch((err: unknown) => err);

    expect(failed).toMatchObject({ code: 'SCHEMA_NOT_READY' });
    expect(logger.named('migration.failed')).toEqual([
      {
        level: 'error',
        event: 'migration.failed',
        fields: {
          migration: 'create_treatment_goals',
          direction: 'up',
          code: 'SCHEMA_NOT_READY',
          reason: expect.stringMatching(/^therapy_sessions not found in schema "public"/),
        },
      },
    ]);
    // Text format: the thrown error is the one line the Knex CLI prints.
    expect((failed as Error).stack).toMatch(/^SchemaNotReadyError: therapy_sessions not found/);
    expect(stderr.text()).toBe('');
  });

  it('takes a pino logger through fieldsFirst: fields as the object, the event as the message', async () => {
    const lines: { level: string; fields: object; message: string }[] = [];
    const pinoLike: FieldsFirstLogger = {
      error: (fields, message) => lines.push({ level: 'error', fields, message }),
      warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
      info: (fields, message) => lines.push({ level: 'info', fields, message }),
      debug: (fields, message) => lines.push({ level: 'debug', fields, message }),
    };
    const logger = fieldsFirst(pinoLike);

    const failed = await db.knex.migrate
      .latest(migrationSource({ '02_goal_schema': goalSchemaMigration({ logger }) }))
      .catch((err: unknown) => err);

    expect(failed).toMatchObject({ code: 'SCHEMA_NOT_READY' });
    expect(lines).toEqual([
      {
        level: 'error',
        message: 'migration.failed',
        fields: expect.objectContaining({ code: 'SCHEMA_NOT_READY', direction: 'up' }),
      },
    ]);
  });
});

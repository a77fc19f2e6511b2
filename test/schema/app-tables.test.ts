import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqlRunner } from '../../src/db/sql-runner';
import { AppSchemaIncompatibleError, SchemaNotReadyError } from '../../src/errors';
import {
  assertAppSchemaCompatible,
  assertAppTablesPresent,
  assertSchemaReady,
  createMissingAppTables,
} from '../../src/schema/app-tables';
import { relationOwnership } from '../../src/schema/lock-safe-ddl';
import { tableDefinition } from '../support/app-goal-table';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The app's users and therapy_sessions: checked before anything changes, every misfit named in
 * one line each; created, marked as this package's, only when missing.
 */

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await db.knex.raw('DROP TABLE IF EXISTS therapy_sessions, users CASCADE');
});

afterAll(async () => {
  await db.drop();
});

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('assertAppSchemaCompatible', () => {
  it('reports each problem of the tables in one line, all at once, and changes nothing', async () => {
    await db.knex.raw('CREATE TABLE users (id text NOT NULL, email text)');
    await db.knex.raw(
      `CREATE TABLE therapy_sessions (id uuid NOT NULL, patient_id text, therapist_id uuid,
         session_date date, notes jsonb)`,
    );
    const before = [
      await tableDefinition(db.knex, 'users'),
      await tableDefinition(db.knex, 'therapy_sessions'),
    ];

    const error = await failureOf(assertAppSchemaCompatible(sqlRunner(db.knex)));
    expect(error).toBeInstanceOf(AppSchemaIncompatibleError);
    const { problems, message } = error as AppSchemaIncompatibleError;
    expect(problems.map((p) => `${p.table}.${p.column}`)).toEqual([
      'users.id',
      'therapy_sessions.id',
      'therapy_sessions.patient_id',
      'therapy_sessions.session_date',
      'therapy_sessions.extracted_notes',
    ]);
    expect(problems.map((p) => p.problem)).toEqual([
      'is text; the backfill needs uuid',
      'has no primary key or unique constraint; treatment_goals references it',
      'is text; the backfill needs uuid',
      'is date; the backfill needs timestamp with time zone or timestamp without time zone',
      'is missing; the backfill needs it as jsonb',
    ]);
    expect(message).not.toContain('\n');
    for (const p of problems) expect(message).toContain(`${p.table}.${p.column} ${p.problem}`);
    expect([
      await tableDefinition(db.knex, 'users'),
      await tableDefinition(db.knex, 'therapy_sessions'),
    ]).toEqual(before);
  });

  it('accepts missing tables and tables of the shape the app has', async () => {
    await assertAppSchemaCompatible(sqlRunner(db.knex));
    await db.knex.raw('CREATE TABLE users (id uuid PRIMARY KEY, nickname text)');
    await assertAppSchemaCompatible(sqlRunner(db.knex));
    await db.knex.raw(
      `CREATE TABLE therapy_sessions (id uuid UNIQUE, patient_id uuid, therapist_id uuid,
         session_date timestamp, extracted_notes jsonb, room text)`,
    );
    await assertAppSchemaCompatible(sqlRunner(db.knex));
  });
});

describe('createMissingAppTables', () => {
  it('creates only the missing tables, marked as its own, and accepts what it made', async () => {
    await db.knex.raw('CREATE TABLE users (id uuid PRIMARY KEY)');
    expect(await createMissingAppTables(db.knex)).toEqual(['therapy_sessions']);
    expect(await relationOwnership(sqlRunner(db.knex), 'users')).toBe('theirs');
    expect(await relationOwnership(sqlRunner(db.knex), 'therapy_sessions')).toBe('ours');
    expect(await createMissingAppTables(db.knex)).toEqual([]);
    await assertAppSchemaCompatible(sqlRunner(db.knex));
    await assertAppTablesPresent(sqlRunner(db.knex));

    await db.knex.raw('DROP TABLE therapy_sessions, users');
    expect(await createMissingAppTables(db.knex)).toEqual(['users', 'therapy_sessions']);
    await assertAppSchemaCompatible(sqlRunner(db.knex));
  });
});

describe('assertAppTablesPresent and assertSchemaReady', () => {
  it('name the missing tables, where they were looked for, and what to do', async () => {
    const app = await failureOf(assertAppTablesPresent(sqlRunner(db.knex)));
    expect(app).toBeInstanceOf(SchemaNotReadyError);
    expect(app).toMatchObject({
      missingTables: ['users', 'therapy_sessions'],
      appTablesMissing: true,
      lookup: { schemas: ['public'] },
    });
    expect((app as Error).message).toContain('GOAL_BACKFILL_SCHEMA');

    await createMissingAppTables(db.knex);
    const backfill = await failureOf(assertSchemaReady(sqlRunner(db.knex)));
    expect(backfill).toMatchObject({
      missingTables: ['treatment_goals', 'goal_backfill_runs', 'goal_backfill_failures'],
      appTablesMissing: false,
    });
    expect((backfill as Error).message).toMatch(
      /^treatment_goals, goal_backfill_runs, goal_backfill_failures not found in schema "public"/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { describeErrorSafely } from '../src/db/failures';
import * as errors from '../src/errors';
import {
  AppSchemaIncompatibleError,
  BackfillIncompleteError,
  BackfillLockedError,
  BackfillRunFailedError,
  BackfillUnverifiedError,
  ChangeCaptureBlockedError,
  ConfigError,
  DatabaseUnreachableError,
  EmbeddedDatabaseBusyError,
  EmbeddedStorageError,
  GoalBackfillError,
  GoalSchemaConflictError,
  MigrationFailedError,
  RollbackFailedError,
  SchemaChangeBlockedError,
  SchemaNotReadyError,
  TeardownRefusedError,
  UsageError,
} from '../src/errors';

/**
 * Every error this package throws on purpose: a stable code, its class's name, the cause it was
 * given, and a one-line message built from ids, counts and codes. Each is built here from a
 * PostgreSQL error whose message and detail quote row text, the way a caller gets one.
 */

const ROW_TEXT = 'ROW-TEXT-Patient-feels-hopeless-4c1d';

function rowQuotingPgError(): Error {
  return Object.assign(
    new Error(`insert or update on table "treatment_goals" violates check: ${ROW_TEXT}`),
    {
      severity: 'ERROR',
      code: '23514',
      detail: `Failing row contains (${ROW_TEXT}).`,
      table: 'treatment_goals',
    },
  );
}

type Case = [code: string, build: (cause: Error) => GoalBackfillError, keepsCause: boolean];

const safeReason = (cause: Error) => describeErrorSafely(cause);

const CASES: Case[] = [
  ['CONFIG_INVALID', (cause) => new ConfigError(['batchSize must be 1..10000'], { cause }), true],
  ['USAGE', (cause) => new UsageError('unknown flag --bach-size', { cause }), true],
  [
    'DATABASE_UNREACHABLE',
    (cause) => new DatabaseUnreachableError('127.0.0.1:5432/app', 'connection refused', { cause }),
    true,
  ],
  [
    'EMBEDDED_DATABASE_BUSY',
    (cause) => new EmbeddedDatabaseBusyError('/data/pg', { cause, holderPid: 4242 }),
    true,
  ],
  ['EMBEDDED_STORAGE', (cause) => new EmbeddedStorageError('/data/pg', 'ENOSPC', { cause }), true],
  [
    'APP_SCHEMA_INCOMPATIBLE',
    () =>
      new AppSchemaIncompatibleError([
        { table: 'therapy_sessions', column: 'extracted_notes', problem: 'is text, not jsonb' },
      ]),
    false,
  ],
  ['GOAL_SCHEMA_CONFLICT', () => new GoalSchemaConflictError(['treatment_goals']), false],
  [
    'SCHEMA_NOT_READY',
    (cause) =>
      new SchemaNotReadyError(
        ['goal_backfill_runs'],
        { searchPath: '"$user", public', schemas: ['public'] },
        false,
        { cause },
      ),
    true,
  ],
  [
    'SCHEMA_CHANGE_BLOCKED',
    (cause) => new SchemaChangeBlockedError('therapy_sessions', [101, 102], 3, { cause }),
    true,
  ],
  ['CAPTURE_BLOCKED', (cause) => new ChangeCaptureBlockedError([], 5, { cause }), true],
  [
    'LOCKED',
    (cause) =>
      new BackfillLockedError(
        {
          pid: 77,
          applicationName: 'goal-backfill',
          runId: 'run-1',
          invokedBy: 'cli',
          runner: 'host-a',
          startedAt: '2026-01-01T00:00:00.000Z',
        },
        2500,
        { cause },
      ),
    true,
  ],
  [
    'RUN_FAILED',
    (cause) => new BackfillRunFailedError('run-1', 40, safeReason(cause), { cause }),
    true,
  ],
  ['INCOMPLETE', (cause) => new BackfillIncompleteError(3, 'run-1', { cause }), true],
  [
    'UNVERIFIED',
    (cause) =>
      new BackfillUnverifiedError(
        'run-1',
        { pass: 0, expected: 10, read: 9, beyondLastPage: 1 },
        { cause },
      ),
    true,
  ],
  [
    'ROLLBACK_FAILED',
    (cause) => new RollbackFailedError(500, 100, safeReason(cause), { cause }),
    true,
  ],
  ['TEARDOWN_REFUSED', () => new TeardownRefusedError(2, 1, 'GOAL_BACKFILL_ALLOW_TEARDOWN'), false],
  [
    'MIGRATION_FAILED',
    (cause) => {
      const reason = safeReason(cause);
      return new MigrationFailedError('migration 2026_backfill (up)', reason.code, reason.message);
    },
    false,
  ],
];

describe('the errors this package throws', () => {
  it.each(CASES)(
    '%s: its code, name, cause and a message free of row text',
    (code, build, keeps) => {
      const cause = rowQuotingPgError();
      const error = build(cause);
      expect(error).toBeInstanceOf(GoalBackfillError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(error.constructor.name);
      if (keeps) expect(error.cause).toBe(cause);
      expect(error.message).not.toContain(ROW_TEXT);
      expect(error.message).not.toMatch(/\n/);
      expect(error.message.length).toBeGreaterThan(20);
    },
  );

  it('gives every class a code of its own', () => {
    const codes = CASES.map(([code]) => code);
    expect(new Set(codes).size).toBe(codes.length);
    const built = CASES.map(([, build]) => build(rowQuotingPgError()).code);
    expect(built).toEqual(codes);
  });

  it('covers every error class the module exports', () => {
    const exported = Object.values(errors).filter(
      (value) => typeof value === 'function' && value.prototype instanceof GoalBackfillError,
    );
    const covered = CASES.map(([, build]) => build(rowQuotingPgError()).constructor);
    expect(exported.filter((cls) => !covered.includes(cls)).map((cls) => cls.name)).toEqual([]);
  });

  it('lets a migration error carry only the safe description, in a one-line stack', () => {
    const reason = safeReason(rowQuotingPgError());
    const error = new MigrationFailedError('seed demo', reason.code, reason.message);
    expect(error.stack).toBe(`MigrationFailedError: ${error.message}`);
    expect(error.cause).toEqual({ code: '23514', message: reason.message });
    expect(JSON.stringify(error.cause)).not.toContain(ROW_TEXT);
  });

  it('names ids, counts and codes in the message', () => {
    const failed = new BackfillRunFailedError('run-9', 40, { code: '57014', message: 'canceled' });
    expect(failed.message).toContain('run-9');
    expect(failed.message).toContain('40 session(s)');
    expect(failed.message).toContain('[57014]');
    const rollback = new RollbackFailedError(500, 100, { code: null, message: 'lost' });
    expect(rollback.message).toContain('500');
    expect(rollback.message).toContain('up to 100 more');
    expect(new RollbackFailedError(5, 0, { code: null, message: 'x' }).message).not.toContain(
      'more',
    );
    const locked = new BackfillLockedError(
      {
        pid: 77,
        applicationName: null,
        runId: 'run-1',
        invokedBy: 'cli',
        runner: null,
        startedAt: null,
      },
      2500,
    );
    expect(locked.message).toContain('a cli run, run run-1, backend pid 77');
    expect(new ConfigError(['a is wrong', 'b is wrong']).message).toBe('a is wrong; b is wrong');
    expect(new EmbeddedDatabaseBusyError('/d').holderPid).toBeNull();
  });
});

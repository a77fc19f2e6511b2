import { describe, expect, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/main';
import { EXIT_CODES } from '../../src/cli/output';
import {
  BackfillLockedError,
  BackfillRunFailedError,
  ChangeCaptureBlockedError,
  ConfigError,
  DatabaseUnreachableError,
  SchemaNotReadyError,
  UsageError,
} from '../../src/errors';

const holder = {
  pid: 1,
  applicationName: null,
  runId: null,
  invokedBy: null,
  runner: null,
  startedAt: null,
};

describe('exitCodeForError', () => {
  it.each([
    ['a usage error', 2, new UsageError('bad flag')],
    ['a config error', 2, new ConfigError(['DATABASE_URL is not set'])],
    ['an unreachable database', 2, new DatabaseUnreachableError('postgres://h/db', 'refused')],
    [
      'a missing schema',
      2,
      new SchemaNotReadyError(['treatment_goals'], { searchPath: 'app', schemas: ['app'] }),
    ],
    ['a held lock', 3, new BackfillLockedError(holder, 0)],
    ['change capture kept from starting', 3, new ChangeCaptureBlockedError([42], 5)],
    ['a failed run', 1, new BackfillRunFailedError('r', 5, { code: 'X', message: 'm' })],
    ['anything else', 1, new TypeError('oops')],
  ])('gives %s exit code %i', (_name, code, err) => {
    expect(exitCodeForError(err)).toBe(code);
  });

  it('uses the documented numbers', () => {
    expect(EXIT_CODES).toEqual({ ok: 0, failed: 1, usage: 2, locked: 3, interrupted: 130 });
  });
});

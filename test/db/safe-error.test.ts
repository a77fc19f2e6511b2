import { describe, expect, it } from 'vitest';
import { describeErrorSafely } from '../../src/db/safe-error';
import { ConfigError } from '../../src/errors/config-error';

function pgError(fields: Record<string, unknown>): Error {
  return Object.assign(new Error(String(fields.message ?? 'x')), { severity: 'ERROR', ...fields });
}

describe('describeErrorSafely', () => {
  it.each([
    [
      'a unique violation quoting the key',
      pgError({
        code: '23505',
        message: 'duplicate key value violates unique constraint "k"',
        detail: 'Key (description)=(SECRET) already exists.',
        table: 'treatment_goals',
        constraint: 'k',
      }),
      { code: '23505', message: 'unique_violation (table treatment_goals, constraint k)' },
    ],
    [
      'a trigger raising the row text',
      pgError({ code: 'P0001', message: 'rejected SECRET', where: 'PL/pgSQL function SECRET' }),
      { code: 'P0001', message: 'raise_exception' },
    ],
    [
      'an unknown SQLSTATE',
      pgError({ code: '2203G', message: 'SECRET' }),
      { code: '2203G', message: 'sqlstate_class_22' },
    ],
    [
      'a Knex error carrying the SQL and its bindings',
      new Error('insert into "t" values (\'SECRET\') - Connection terminated unexpectedly'),
      { code: null, message: 'Connection terminated unexpectedly' },
    ],
    [
      'a network error',
      Object.assign(new Error('read ECONNRESET SECRET'), { code: 'ECONNRESET', syscall: 'read' }),
      { code: 'ECONNRESET', message: 'ECONNRESET during read' },
    ],
    ['anything else', new TypeError('SECRET'), { code: null, message: 'unexpected TypeError' }],
    ['a thrown string', 'SECRET', { code: null, message: 'unexpected string' }],
  ])('reduces %s to codes and identifiers', (_name, error, expected) => {
    const described = describeErrorSafely(error);
    expect(described).toEqual(expected);
    expect(JSON.stringify(described)).not.toContain('SECRET');
  });

  it("passes this package's own errors through", () => {
    expect(describeErrorSafely(new ConfigError(['batchSize must be …']))).toEqual({
      code: 'CONFIG_INVALID',
      message: 'batchSize must be …',
    });
  });

  it('does not mistake a five-letter Node error code for a SQLSTATE', () => {
    expect(describeErrorSafely(Object.assign(new Error('x'), { code: 'EPIPE' }))).toEqual({
      code: 'EPIPE',
      message: 'EPIPE',
    });
  });
});

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
        schema: 'public',
        table: 'treatment_goals',
        constraint: 'treatment_goals_patient_description_key',
      }),
      {
        code: '23505',
        message:
          'unique_violation (table treatment_goals, constraint treatment_goals_patient_description_key)',
      },
    ],
    [
      'a missing table of ours, named only in the message (schema-qualified or not)',
      pgError({ code: '42P01', message: 'relation "app.therapy_sessions" does not exist' }),
      { code: '42P01', message: 'undefined_table (table therapy_sessions)' },
    ],
    [
      'a missing table that is not ours, or a message a trigger wrote to look like one',
      pgError({ code: '42P01', message: 'relation "SECRET text" does not exist' }),
      { code: '42P01', message: 'undefined_table' },
    ],
    [
      'a not-null violation on a column of ours',
      pgError({ code: '23502', table: 'treatment_goals', column: 'category', dataType: 'text' }),
      { code: '23502', message: 'not_null_violation (table treatment_goals, column category)' },
    ],
    [
      'a trigger setting every identifier field to row text',
      pgError({
        code: '23514',
        message: 'SECRET',
        detail: 'SECRET',
        hint: 'SECRET',
        where: 'SECRET',
        schema: 'SECRET',
        table: 'SECRET',
        column: 'SECRET',
        constraint: 'SECRET',
        dataType: 'SECRET',
      }),
      { code: '23514', message: 'check_violation' },
    ],
    [
      'identifiers that are not ours',
      pgError({ code: '23514', table: 'app_table', constraint: 'app_check', column: 'notes' }),
      { code: '23514', message: 'check_violation' },
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

import { describe, expect, it } from 'vitest';
import {
  asDatabaseUnreachable,
  connectionFailureReason,
  databaseErrorKind,
  describeErrorSafely,
} from '../../src/db/failures';
import { ConfigError, DatabaseUnreachableError } from '../../src/errors';

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

const pg = (code: string) => Object.assign(new Error('x'), { code, severity: 'ERROR' });

describe('databaseErrorKind', () => {
  it.each([
    ['40001', 'transient'],
    ['40P01', 'transient'],
    ['55P03', 'transient'],
    ['08006', 'connection'],
    ['57P01', 'connection'],
    ['23505', 'session'],
    ['23514', 'session'],
    ['22001', 'session'],
    ['P0001', 'session'],
    ['54000', 'session'],
    ['57014', 'session'],
    ['42P01', 'fatal'],
    ['53100', 'fatal'],
  ])('treats SQLSTATE %s as %s', (code, kind) => {
    expect(databaseErrorKind(pg(code))).toBe(kind);
  });

  it('treats lost connections as connection errors', () => {
    expect(databaseErrorKind(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(
      'connection',
    );
    expect(databaseErrorKind(new Error('select 1 - Connection terminated unexpectedly'))).toBe(
      'connection',
    );
  });

  it('treats anything unknown as fatal', () => {
    expect(databaseErrorKind(new TypeError('boom'))).toBe('fatal');
  });
});

function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.1:5432`), { code, syscall: 'connect' });
}

function serverError(code: string, text: string): Error {
  return Object.assign(new Error(text), { code, severity: 'FATAL' });
}

describe('connectionFailureReason', () => {
  it.each([
    [systemError('ECONNREFUSED'), 'connection refused [ECONNREFUSED]'],
    [systemError('ENOTFOUND'), 'host not found [ENOTFOUND]'],
    [systemError('ETIMEDOUT'), 'connection timed out [ETIMEDOUT]'],
    [
      serverError('28P01', 'password authentication failed for user "x"'),
      'password authentication failed [28P01]',
    ],
    [serverError('28000', 'no pg_hba.conf entry'), 'authorization rejected [28000]'],
    [serverError('3D000', 'database "x" does not exist'), 'database does not exist [3D000]'],
    [
      new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')], 'all failed'),
      'connection refused [ECONNREFUSED]',
    ],
    [
      Object.assign(new Error('Knex: Timeout acquiring a connection.'), {
        name: 'KnexTimeoutError',
      }),
      'timed out waiting for a connection',
    ],
    [new Error('Connection terminated unexpectedly'), 'connection closed by the server'],
    [
      new Error('The server does not support SSL connections'),
      'the server does not support SSL (check sslmode)',
    ],
    [
      new Error('Connection terminated due to connection timeout', {
        cause: new Error('timeout expired'),
      }),
      'connection timed out',
    ],
    [systemError('ECONNRESET'), 'connection reset [ECONNRESET]'],
    ...[
      'SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string',
      'SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a non-empty string',
    ].map((message) => [
      new Error(message),
      'the server asks for a password and none was given: put it in DATABASE_URL or PGPASSWORD',
    ]),
    [
      Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      'the server certificate is not trusted (check sslmode) [DEPTH_ZERO_SELF_SIGNED_CERT]',
    ],
  ])('recognises %s', (err, reason) => {
    expect(connectionFailureReason(err)).toBe(reason);
  });

  it('reads a closed connection as unreachable only before any connection was made', () => {
    const closed = new Error('Connection terminated unexpectedly');
    expect(connectionFailureReason(closed, { connected: false })).toBe(
      'connection closed by the server',
    );
    expect(connectionFailureReason(closed, { connected: true })).toBeNull();
  });

  it('never matches a server message that merely contains a driver phrase', () => {
    const quoted = serverError('P0001', 'Connection terminated unexpectedly SECRET');
    expect(connectionFailureReason(quoted)).toBeNull();
    expect(connectionFailureReason(new Error('x Connection terminated unexpectedly'))).toBeNull();
  });

  it.each([
    serverError('42P01', 'relation does not exist'),
    Object.assign(new Error('check'), { code: '23514', severity: 'ERROR' }),
    new TypeError('not a connection problem'),
    'a string',
  ])('leaves other errors alone: %s', (err) => {
    expect(connectionFailureReason(err)).toBeNull();
  });
});

describe('asDatabaseUnreachable', () => {
  it('names the target and keeps the cause, never the server text', () => {
    const cause = serverError('28P01', 'password authentication failed for user "secret-user"');
    const err = asDatabaseUnreachable(cause, 'postgres://app@db.internal:5432/prod');
    expect(err).toBeInstanceOf(DatabaseUnreachableError);
    expect(err?.message).toBe(
      'cannot reach the database at postgres://app@db.internal:5432/prod (password authentication failed [28P01]): check DATABASE_URL and that the server is up',
    );
    expect(err?.cause).toBe(cause);
  });
});

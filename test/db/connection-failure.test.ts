import { describe, expect, it } from 'vitest';
import { asDatabaseUnreachable, connectionFailureReason } from '../../src/db/connection-failure';
import { DatabaseUnreachableError } from '../../src/errors/database-unreachable-error';

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

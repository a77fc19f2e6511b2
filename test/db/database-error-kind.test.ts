import { describe, expect, it } from 'vitest';
import { databaseErrorKind } from '../../src/db/database-error-kind';

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

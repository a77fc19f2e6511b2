import { describe, expect, it } from 'vitest';
import { describeConnectionString, parseDatabaseUrl } from '../../src/config/database-url';
import { ConfigError } from '../../src/errors/config-error';

describe('parseDatabaseUrl', () => {
  it('accepts postgres:// and postgresql:// URLs and describes them without the password', () => {
    expect(parseDatabaseUrl('postgres://app:pw@db.internal:6543/clinic?sslmode=require')).toEqual({
      connectionString: 'postgres://app:pw@db.internal:6543/clinic?sslmode=require',
      description: 'postgres://app@db.internal:6543/clinic',
    });
    expect(parseDatabaseUrl('postgresql://db/clinic').description).toBe('postgresql://db/clinic');
  });

  it.each([
    [
      'postgres://app:pw@/clinic?host=/var/run/postgresql',
      'postgres://app@(socket /var/run/postgresql)/clinic',
    ],
    ['postgresql:///clinic?host=%2Ftmp', 'postgresql://(socket /tmp)/clinic'],
    ['postgres://app:pw@db:5432/clinic?sslmode=verify-full', 'postgres://app@db:5432/clinic'],
    ['postgres://app:pw@db/clinic?options=-c%20search_path%3Dapp', 'postgres://app@db/clinic'],
  ])('accepts %j as node-postgres does, described as %j', (raw, description) => {
    const parsed = parseDatabaseUrl(raw);
    expect(parsed.connectionString).toBe(raw);
    expect(parsed.description).toBe(description);
    expect(parsed.description).not.toContain('pw');
  });

  it.each([
    [
      undefined,
      'DATABASE_URL is not set: set it, e.g. DATABASE_URL=postgres://user:password@host:5432/database',
    ],
    ['   ', 'DATABASE_URL is not set'],
    ['not a url pw=hunter2', 'DATABASE_URL is not a valid URL'],
    [
      'mysql://u:hunter2@h/db',
      'DATABASE_URL must start with postgres:// or postgresql:// (got mysql://)',
    ],
    ['postgres://u:hunter2@h', 'DATABASE_URL names no database'],
  ])('refuses %j with a one-line fix that never repeats the value', (raw, message) => {
    const error = (() => {
      try {
        parseDatabaseUrl(raw);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('hunter2');
    expect((error as Error).message).not.toContain('\n');
  });

  it('names the variable it read', () => {
    expect(() => parseDatabaseUrl(undefined, 'TEST_DATABASE_URL')).toThrow(
      /^TEST_DATABASE_URL is not set/,
    );
  });
});

describe('describeConnectionString', () => {
  it('never echoes an unreadable string, which may hold a password', () => {
    expect(describeConnectionString('host=db password=hunter2')).toBe(
      '(unreadable connection string)',
    );
  });
});

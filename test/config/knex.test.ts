import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  backfillPoolSize,
  createCliKnex,
  describeConnectionString,
  knexConfigFor,
  parseDatabaseUrl,
} from '../../src/config/knex';
import { ConfigError } from '../../src/errors';
import { temporaryFolder } from '../support/embedded-folder';

const folders: (() => void)[] = [];

afterEach(() => {
  for (const remove of folders.splice(0)) remove();
});

function pathsIn(root: string) {
  return {
    migrations: path.join(root, 'migrations'),
    seeds: path.join(root, 'seeds'),
    embeddedData: path.join(root, 'data', 'pglite'),
  };
}

function scratch(): string {
  const { root, remove } = temporaryFolder('goal-backfill-knex-config-');
  folders.push(remove);
  return root;
}

describe('knexConfigFor and GOAL_BACKFILL_WORKERS', () => {
  it.each(['development', 'test'] as const)(
    '%s: refuses more than one worker on the embedded database before opening it',
    (environment) => {
      const root = scratch();
      let error: unknown;
      try {
        knexConfigFor(environment, { GOAL_BACKFILL_WORKERS: '2' }, pathsIn(root));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toBe(
        'GOAL_BACKFILL_WORKERS=2: more than one worker needs a PostgreSQL server, and the embedded ' +
          'database has a single connection; set DATABASE_URL=postgres://user:password@host:5432/database, ' +
          'or run one worker',
      );
      // Not even the data folder's parent was created, nor its lock file taken.
      expect(existsSync(path.join(root, 'data'))).toBe(false);
    },
  );

  it('leaves a bad value to the migration, which reports it with every other problem', () => {
    const root = scratch();
    const paths = pathsIn(root);
    const config = knexConfigFor(
      'development',
      { DATABASE_URL: 'postgres://app@db.internal:5432/clinic', GOAL_BACKFILL_WORKERS: 'lots' },
      paths,
    );
    expect(config.pool).toEqual({ min: 0, max: 4 });
  });

  it.each([
    [undefined, 4],
    ['1', 4],
    ['2', 4],
    ['3', 5],
    ['16', 18],
  ])('GOAL_BACKFILL_WORKERS=%s on a server: a pool of %i', (workers, max) => {
    const config = knexConfigFor(
      'production',
      { DATABASE_URL: 'postgres://app@db.internal:5432/clinic', GOAL_BACKFILL_WORKERS: workers },
      pathsIn(scratch()),
    );
    expect(config.pool).toEqual({ min: 0, max });
  });
});

describe('createCliKnex on a server', () => {
  it.each([
    [1, 2],
    [3, 5],
  ])(
    '%i worker(s): a pool of %i, and the URL named without its password, without connecting',
    async (workers, max) => {
      const url = 'postgres://app:Not-Printed-7731@db.internal:5432/clinic?sslmode=require';
      const { knex, target, close } = createCliKnex({ DATABASE_URL: ` ${url} ` }, { workers });
      try {
        expect(knex.client.config.pool).toMatchObject({ min: 0, max });
        expect(knex.client.config.connection).toMatchObject({
          connectionString: url,
          application_name: 'goal-backfill',
        });
        expect(target).toBe('postgres://app@db.internal:5432/clinic');
      } finally {
        await close();
      }
    },
  );
});

describe('backfillPoolSize', () => {
  it.each([
    [1, 2],
    [2, 4],
    [16, 18],
  ])('%i worker(s): %i connections', (workers, connections) => {
    expect(backfillPoolSize(workers)).toBe(connections);
  });
});

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

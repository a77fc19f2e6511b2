import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backfillPoolSize, knexConfigFor } from '../../src/config/knex-config';
import { ConfigError } from '../../src/errors/config-error';
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

describe('backfillPoolSize', () => {
  it.each([
    [1, 2],
    [2, 4],
    [16, 18],
  ])('%i worker(s): %i connections', (workers, connections) => {
    expect(backfillPoolSize(workers)).toBe(connections);
  });
});

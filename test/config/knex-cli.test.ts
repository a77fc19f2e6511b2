import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCliKnex } from '../../src/config/knex';
import { EmbeddedDatabaseBusyError } from '../../src/errors';
import { linesOf, runCli } from '../cli/cli-harness';

const folders: string[] = [];

function dataDirectory(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'goal-backfill-embedded-'));
  folders.push(root);
  // Two levels the embedded database has to create itself.
  return path.join(root, 'nested', 'data', 'pglite');
}

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('the embedded database when DATABASE_URL is unset', () => {
  it('opens PGlite in the data folder, creating its parents, and names it', async () => {
    const folder = dataDirectory();
    const { knex, target } = createCliKnex({ GOAL_BACKFILL_DATA_DIR: folder });
    try {
      const result = await knex.raw('SELECT 1 + 1 AS two');
      expect(result.rows).toEqual([{ two: 2 }]);
      expect(target).toMatch(/^embedded PGlite in .*nested\/data\/pglite$/);
    } finally {
      await knex.destroy();
    }
  });

  it('refuses a second user of the same folder, and lets it in once the first closes', async () => {
    const folder = dataDirectory();
    const first = createCliKnex({ GOAL_BACKFILL_DATA_DIR: folder });
    await first.knex.raw('SELECT 1');
    expect(() => createCliKnex({ GOAL_BACKFILL_DATA_DIR: folder })).toThrow(
      EmbeddedDatabaseBusyError,
    );
    await first.knex.destroy();
    const second = createCliKnex({ GOAL_BACKFILL_DATA_DIR: folder });
    await second.knex.raw('SELECT 1');
    await second.knex.destroy();
  });

  it('exits 3 with a one-line message when another process has the folder open', async () => {
    const folder = dataDirectory();
    const holder = createCliKnex({ GOAL_BACKFILL_DATA_DIR: folder });
    try {
      await holder.knex.raw('SELECT 1');
      const run = await runCli(['status'], { env: { GOAL_BACKFILL_DATA_DIR: folder } });
      expect(run.code).toBe(3);
      expect(linesOf(run.stderr)).toHaveLength(1);
      expect(run.stderr).toContain('is in use by another process');
    } finally {
      await holder.knex.destroy();
    }
  });

  it('says to migrate first when the embedded database is new', async () => {
    const run = await runCli(['status'], { env: { GOAL_BACKFILL_DATA_DIR: dataDirectory() } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('run `npx knex migrate:latest` first');
  });
});

import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runCommand } from '../support/run-command';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

/**
 * Every shell block of the README and docs/ whose info string is `sh runnable` runs as
 * printed, in order, from the project root, against a scratch database of its own file
 * (DATABASE_URL). A block that fails names its file and its first line.
 */

const DOCUMENTS = [
  'README.md',
  'docs/cli.md',
  'docs/development.md',
  'docs/migration-guide.md',
  'docs/operations.md',
  'docs/seeding.md',
  'docs/library.md',
  'docs/backfill-rules.md',
];

/**
 * Where each document's blocks start: an app's database with its rows and none of this
 * package's tables (the guide), the same after the migrations (the CLI reference), or an empty
 * database (the rest).
 */
const STARTING_POINT: Record<string, 'app database' | 'migrated app database'> = {
  'docs/migration-guide.md': 'app database',
  'docs/operations.md': 'app database',
  'docs/cli.md': 'migrated app database',
};

/** Files a runnable block may leave in the project root, removed after each document. */
const LEFTOVERS = ['backfill-errors.jsonl'];

function runnableBlocks(file: string): string[] {
  const text = readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
  return [...text.matchAll(/^```sh runnable\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
}

const documents = DOCUMENTS.map((file) => ({ file, blocks: runnableBlocks(file) })).filter(
  (document) => document.blocks.length > 0,
);

let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await db.drop();
  for (const leftover of LEFTOVERS) rmSync(path.join(PROJECT_ROOT, leftover), { force: true });
});

/** The app's tables with a patient and a session, and none of this package's tables yet. */
async function appDatabaseWithoutGoals(): Promise<void> {
  await db.migrateLatest();
  await db.knex.raw(`
    INSERT INTO users (id, role, full_name, email) VALUES
      ('00000000-0000-4000-8000-000000000001', 'patient', 'P', 'p@example.test');
    INSERT INTO therapy_sessions (patient_id, session_date, extracted_notes) VALUES
      ('00000000-0000-4000-8000-000000000001', '2024-01-01', '{"action_items":[{"task":"Walk"}]}');`);
  await db.knex.migrate.rollback(undefined, true);
}

describe.skipIf(onPglite)('the runnable shell blocks of the docs', () => {
  it('there are runnable blocks in the guide, the CLI reference and the development notes', () => {
    const files = documents.map((document) => document.file);
    expect(files).toEqual(
      expect.arrayContaining(['docs/migration-guide.md', 'docs/development.md']),
    );
  });

  it.each(documents)(
    '$file: every runnable block runs as printed',
    async ({ file, blocks }) => {
      const start = STARTING_POINT[file];
      if (start) await appDatabaseWithoutGoals();
      if (start === 'migrated app database') await db.migrateLatest();
      for (const block of blocks) {
        const result = await runCommand(
          'bash',
          ['-euo', 'pipefail', '-c', block],
          {
            DATABASE_URL: db.url,
            NODE_ENV: undefined,
            GOAL_BACKFILL_LOG_LEVEL: 'warn',
            CI: 'true',
          },
          180_000,
        );
        const firstLine = block.split('\n').find((line) => line.trim() && !line.startsWith('#'));
        expect({
          block: firstLine,
          code: result.code,
          stderr: result.code ? result.stderr.slice(-1500) : '',
        }).toEqual({
          block: firstLine,
          code: 0,
          stderr: '',
        });
      }
    },
    900_000,
  );
});

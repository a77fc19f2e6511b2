import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging';
import { seedDatabase } from '../../src/seed';
import { resetData } from '../support/backfill-assertions';
import { insertUsers } from '../support/fixtures';
import { type CommandResult, PROJECT_ROOT, runCommand } from '../support/run-command';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

/**
 * The output the docs show is the output the commands print. A fenced block of the README or
 * docs/ that follows one or more markers
 *
 *     <!-- doc-test[ on=<state>][ exit=<code>]: <command> -->
 *
 * (each on its own line, the last directly above the fence, at the fence's indentation) is
 * what those commands print, one after the other: each runs in bash, in a fresh process, from
 * the project root, with stdout and stderr merged in the order written (a command picks one
 * stream with `2>/dev/null` or `2>&1 >/dev/null`). `exit` is its exit code (default 0); `on`
 * the database it runs against, made fresh for the block (default `migrated`): see STATES. The
 * database is this file's own, at DATABASE_URL; the commands see no GOAL_BACKFILL_*, SEED_*,
 * NODE_ENV or npm_config_* variable of the test's own environment, and `goal-backfill` is the
 * CLI as the package installs it (`node -r sucrase/register/ts src/cli/bin.ts`).
 *
 * Before the comparison, the output loses npm's `> script` header, Knex's `Requiring external
 * module …` and `Using environment: …`, `npm warn` lines and surrounding blank lines; the
 * database's URL reads `postgres://app@db.internal:5432/clinic`, the project root `/srv/app`.
 * Then, on both sides, timestamps, UUIDs, `…Ms=` durations and the summary's execution time are
 * replaced by placeholders.
 */

/** Where a block's commands start, made from scratch before each block. */
const STATES = {
  /** The whole chain migrated, no rows. */
  migrated: async () => {},
  /** The whole chain but the backfill migration, no rows. */
  'backfill-pending': async () => {
    await db.knex.migrate.down();
  },
  /** The backfill pending, and the seeds' practice of 2,000 sessions (not yet backfilled). */
  seeded: async () => {
    await db.knex.migrate.down();
    await seedDatabase({ knex: db.knex, logger: silentLogger, sessions: 2000 });
  },
  /** Migrated, with one user the app created (not the seeds). */
  'app-rows': async () => {
    await insertUsers(db.knex, 1);
  },
} satisfies Record<string, () => Promise<void>>;

type State = keyof typeof STATES;

interface DocCommand {
  command: string;
  exit: number;
}

interface DocBlock {
  /** `file:line` of the block's opening fence. */
  where: string;
  state: State;
  commands: DocCommand[];
  expected: string[];
}

const MARKER = /^(\s*)<!-- doc-test((?: [a-z]+=\S+)*): (.+) -->$/;

function documents(): string[] {
  const docs = readdirSync(path.join(PROJECT_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs.sort()];
}

/** The marked blocks of one document; a marker that is not followed by a block throws. */
function markedBlocks(file: string): DocBlock[] {
  const lines = readFileSync(path.join(PROJECT_ROOT, file), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = MARKER.exec(lines[i] ?? '');
    if (!first) {
      i += 1;
      continue;
    }
    const indent = first[1] ?? '';
    const states = new Set<string>();
    const commands: DocCommand[] = [];
    for (let m = MARKER.exec(lines[i] ?? ''); m; m = MARKER.exec(lines[i] ?? '')) {
      const options = Object.fromEntries(
        (m[2] ?? '')
          .trim()
          .split(' ')
          .filter(Boolean)
          .map((pair) => pair.split('=') as [string, string]),
      );
      const unknown = Object.keys(options).filter((key) => key !== 'on' && key !== 'exit');
      if (unknown.length > 0 || (options.exit !== undefined && !/^\d+$/.test(options.exit))) {
        throw new Error(`${file}:${i + 1}: a doc-test marker takes on=<state> and exit=<code>`);
      }
      states.add(options.on ?? 'migrated');
      commands.push({ command: m[3] ?? '', exit: Number(options.exit ?? 0) });
      i += 1;
    }
    const [state, ...others] = [...states];
    if (others.length > 0 || !state || !(state in STATES)) {
      throw new Error(`${file}:${i}: a block's markers name one state of ${Object.keys(STATES)}`);
    }
    if (lines[i] !== `${indent}\`\`\``) {
      throw new Error(
        `${file}:${i}: a doc-test marker must stand directly above a bare \`\`\` fence`,
      );
    }
    const where = `${file}:${i + 1}`;
    const expected: string[] = [];
    for (i += 1; i < lines.length && lines[i] !== `${indent}\`\`\``; i += 1) {
      expected.push((lines[i] ?? '').slice(indent.length));
    }
    if (i >= lines.length) throw new Error(`${where}: the block is not closed`);
    blocks.push({ where, state: state as State, commands, expected });
    i += 1;
  }
  return blocks;
}

const blocks = documents().flatMap(markedBlocks);

/** Values that differ from one run to the next, as placeholders; applied to both sides. */
function withoutVolatileValues(line: string): string {
  return line
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g, '<time>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/\b(\w*Ms)=\d+/g, '$1=<ms>')
    .replace(/^Execution Time: \d+(?:\.\d+)? seconds$/, 'Execution Time: <s> seconds');
}

/** Lines of npm and Knex that come before any command's own output. */
const PREAMBLE = /^(> |Requiring external module |Using environment: |npm warn )/;

function trimBlankLines(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start]?.trim() === '') start += 1;
  while (end > start && lines[end - 1]?.trim() === '') end -= 1;
  return lines.slice(start, end);
}

function outputLines(result: CommandResult): string[] {
  const databaseUrl = new RegExp(`postgres(?:ql)?://[^\\s/]*/${db.name}\\b`, 'g');
  const text = result.stdout
    // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes of the Knex CLI
    .replace(/\u001b\[[0-9;]*m/g, '')
    .replace(databaseUrl, 'postgres://app@db.internal:5432/clinic')
    .split(PROJECT_ROOT)
    .join('/srv/app');
  return trimBlankLines(text.split('\n').filter((line) => !PREAMBLE.test(line)));
}

let db: TestDatabase;
let shimFolder: string;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.migrateLatest();
  shimFolder = mkdtempSync(path.join(tmpdir(), 'goal-backfill-doc-test-'));
  const bin = path.join(shimFolder, 'goal-backfill');
  writeFileSync(
    bin,
    `#!/bin/sh\nexec node -r ${require.resolve('sucrase/register/ts')} ${path.join(PROJECT_ROOT, 'src', 'cli', 'bin.ts')} "$@"\n`,
  );
  chmodSync(bin, 0o755);
  const dropped = Object.keys(process.env).filter((key) =>
    /^(GOAL_BACKFILL_|SEED_|npm_config_|NODE_ENV$|TEST_DATABASE_URL$)/i.test(key),
  );
  env = {
    ...Object.fromEntries(dropped.map((key) => [key, undefined])),
    DATABASE_URL: db.url,
    // A command run without DATABASE_URL never opens the project's own .data/pglite.
    GOAL_BACKFILL_DATA_DIR: path.join(shimFolder, 'pglite'),
    PATH: `${shimFolder}${path.delimiter}${process.env.PATH ?? ''}`,
  };
}, 120_000);

afterAll(async () => {
  await db?.drop();
  if (shimFolder) rmSync(shimFolder, { recursive: true, force: true });
});

async function prepare(state: State): Promise<void> {
  await resetData(db.knex);
  await db.knex.migrate.latest();
  await STATES[state]();
}

/** Runs the commands two at a time (a command of a block never depends on another). */
async function runAll(commands: DocCommand[]): Promise<CommandResult[]> {
  const results: CommandResult[] = new Array(commands.length);
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < commands.length; index = next++) {
      const command = commands[index]?.command ?? '';
      results[index] = await runCommand('bash', ['-c', `{ ${command}\n} 2>&1`], env, 120_000);
    }
  };
  await Promise.all([lane(), lane()]);
  return results;
}

describe.skipIf(onPglite)('the output the docs show', () => {
  it('is marked in the CLI reference, the migration guide, the seeding notes and operations', () => {
    const files = new Set(blocks.map((block) => block.where.split(':')[0]));
    expect([...files]).toEqual(
      expect.arrayContaining([
        'docs/cli.md',
        'docs/migration-guide.md',
        'docs/seeding.md',
        'docs/operations.md',
      ]),
    );
  });

  it.each(blocks)(
    '$where is what its commands print',
    async ({ state, commands, expected }) => {
      await prepare(state);
      const results = await runAll(commands);
      expect({
        output: results.flatMap(outputLines).map(withoutVolatileValues),
        exitCodes: results.map((result) => result.code),
      }).toEqual({
        output: expected.map(withoutVolatileValues),
        exitCodes: commands.map((command) => command.exit),
      });
    },
    300_000,
  );
});

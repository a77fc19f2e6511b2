/**
 * npm run lint:migrations
 *
 * Lints with squawk (the PostgreSQL migration linter) the DDL this chain runs against an app's
 * database, as PostgreSQL received it: it builds two scratch app databases on the server of
 * TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), one whose
 * treatment_goals the app made and one without, runs `migrate:latest` (the backfill included)
 * and `migrate:rollback --all` on each with every statement recorded, writes the schema
 * statements of each to lint-migrations/<database>-<direction>.sql, and runs squawk on them.
 *
 * It fails on any warning except those listed in KEPT below, each with its reason, which
 * docs/operations.md repeats ("What squawk says about the chain").
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { CHAIN_MIGRATIONS_TABLE } from '../src/names';

const SERVER = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = path.join(__dirname, '..');
const OUTPUT = path.join(ROOT, 'lint-migrations');

/** The app's tables, as an app that predates the chain has them. */
const APP_TABLES = [
  `CREATE TABLE users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), role text NOT NULL,
     full_name text NOT NULL, email text NOT NULL UNIQUE)`,
  `CREATE TABLE therapy_sessions (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
     patient_id uuid NOT NULL REFERENCES users (id), therapist_id uuid REFERENCES users (id),
     session_date timestamptz NOT NULL, extracted_notes jsonb)`,
];

/** An app's own treatment_goals (as in docs/examples/consumer/with-app-goals). */
const APP_GOALS = [
  `CREATE TYPE goal_status AS ENUM ('assigned', 'in_progress', 'completed')`,
  `CREATE TABLE treatment_goals (id bigserial PRIMARY KEY,
     patient_id uuid NOT NULL REFERENCES users (id), therapist_id uuid REFERENCES users (id),
     session_id uuid REFERENCES therapy_sessions (id), description varchar(200) NOT NULL,
     category varchar(40) NOT NULL DEFAULT 'general', details text,
     status goal_status NOT NULL DEFAULT 'assigned', target_date date,
     created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`,
];

/**
 * Warnings kept, by rule, each with why it does not apply to what the chain does. A warning of
 * any other rule fails the lint.
 */
const KEPT: Record<string, string> = {
  'ban-drop-column':
    'treatment_goals of the app, in the schema rollback: it drops only the provenance columns it added (each carries its mark), which the app never reads or writes, to give the table back as it was; a catalog change under lock_timeout',
  'prefer-bigint-over-int':
    "treatment_goals.source_item_index is an item's position in one session's action_items, and a jsonb value of at most 1 GB holds far fewer than 2^31 items; the others (batch_size, resume_count, pass) are this package's own small counters",
  'ban-drop-table':
    'only tables this package created: goal_backfill_runs, _failures and _session_changes, and a treatment_goals it created itself (only while no clinician goal is in it); never an app table',
  'prefer-robust-stmts':
    "DROP TABLE goal_backfill_session_changes in the rollback, run only after reading that the table exists and carries this package's mark",
  'prefer-identity':
    "goal_backfill_failures.id, this package's own table, keeps the bigserial key it has had since 0.1.0",
};

/** Statements that change the schema or frame the changes (transactions, settings, locks). */
const SCHEMA_STATEMENT =
  /^\s*(create|alter|drop|comment|lock|set|reset|begin|commit|rollback|savepoint|release)\b/i;

function knexFor(database: string, record: (sql: string) => void): Knex {
  const url = new URL(SERVER);
  url.pathname = `/${database}`;
  const knex = knexFactory({
    client: 'pg',
    connection: url.toString(),
    pool: { min: 0, max: 4 },
    migrations: {
      directory: path.join(ROOT, 'migrations'),
      loadExtensions: ['.ts'],
      tableName: CHAIN_MIGRATIONS_TABLE,
    },
  });
  knex.on('query', (query: { sql: string; bindings?: unknown[] }) => {
    const sql = query.sql.trim().replace(/;$/, '');
    // Knex's own migrations table is Knex's, not the chain's.
    if (sql.includes(CHAIN_MIGRATIONS_TABLE)) return;
    // A run sets its session's timeouts with set_config(…, false): a SET, as the server sees it.
    const settings =
      /^SELECT set_config\('statement_timeout', (\?|\$1), false\), set_config\('lock_timeout'/.exec(
        sql,
      );
    if (settings) {
      const [statementTimeout, lockTimeout] = query.bindings ?? [];
      record(`SET statement_timeout = ${Number(statementTimeout)}`);
      record(`SET lock_timeout = ${Number(lockTimeout)}`);
      return;
    }
    if (SCHEMA_STATEMENT.test(sql)) record(sql);
  });
  return knex;
}

async function withDatabase<T>(work: (name: string) => Promise<T>): Promise<T> {
  const name = `goal_backfill_squawk_${randomBytes(4).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: SERVER, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  try {
    return await work(name);
  } finally {
    await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.destroy();
  }
}

/** Runs the chain up and down on a fresh app database; returns the schema statements of each. */
async function captureChain(appGoals: boolean): Promise<{ up: string[]; down: string[] }> {
  return withDatabase(async (name) => {
    const app = knexFor(name, () => {});
    try {
      for (const statement of [...APP_TABLES, ...(appGoals ? APP_GOALS : [])]) {
        await app.raw(statement);
      }
      await app.raw(
        `INSERT INTO users (role, full_name, email) VALUES ('patient', 'P', 'p@x.test')`,
      );
      await app.raw(`INSERT INTO therapy_sessions (patient_id, session_date, extracted_notes)
                     SELECT id, now(), '{"action_items": [{"task": "Walk"}]}' FROM users`);
    } finally {
      await app.destroy();
    }
    const up: string[] = [];
    const down: string[] = [];
    let log = up;
    const knex = knexFor(name, (sql) => log.push(sql));
    try {
      await knex.migrate.latest();
      log = down;
      await knex.migrate.rollback(undefined, true);
    } finally {
      await knex.destroy();
    }
    return { up, down };
  });
}

interface Violation {
  file: string;
  line: number;
  rule: string;
  message: string;
}

function lint(files: string[]): Violation[] {
  let output: string;
  try {
    output = execFileSync(
      path.join(ROOT, 'node_modules', '.bin', 'squawk'),
      ['--reporter', 'json', '--pg-version', '14.0', ...files],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
  } catch (err) {
    // squawk exits 1 when it found something; its report is on stdout all the same.
    output = String((err as { stdout?: unknown }).stdout ?? '');
    if (output.trim() === '') throw err;
  }
  const parsed = JSON.parse(output) as {
    file: string;
    line: number;
    rule_name: string;
    message: string;
  }[];
  return parsed.map((v) => ({ file: v.file, line: v.line, rule: v.rule_name, message: v.message }));
}

const print = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  process.env.GOAL_BACKFILL_LOG_LEVEL ??= 'error';
  rmSync(OUTPUT, { recursive: true, force: true });
  mkdirSync(OUTPUT, { recursive: true });
  const files: string[] = [];
  for (const [label, appGoals] of [
    ['app-goals', true],
    ['created-goals', false],
  ] as const) {
    const { up, down } = await captureChain(appGoals);
    for (const [direction, statements] of [
      ['up', up],
      ['down', down],
    ] as const) {
      const file = path.join(OUTPUT, `${label}-${direction}.sql`);
      writeFileSync(file, `${statements.map((sql) => `${sql};`).join('\n\n')}\n`);
      files.push(file);
    }
  }
  const violations = lint(files);
  const failing = violations.filter((v) => !(v.rule in KEPT));
  const kept = new Map<string, number>();
  for (const v of violations) if (v.rule in KEPT) kept.set(v.rule, (kept.get(v.rule) ?? 0) + 1);
  for (const [rule, count] of kept) {
    print(`kept ${rule} (${count}): ${KEPT[rule]}`);
  }
  for (const v of failing) {
    print(`${path.relative(ROOT, v.file)}:${v.line} ${v.rule}: ${v.message}`);
  }
  print(
    `squawk: ${files.length} files, ${violations.length} warning(s), ${kept.size} rule(s) kept with a reason, ${failing.length} failing`,
  );
  if (failing.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exitCode = 1;
});

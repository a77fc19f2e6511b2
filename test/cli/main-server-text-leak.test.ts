import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';
import { seedKnownSessions } from './cli-fixtures';
import { runCli, withoutServer } from './cli-harness';

/** Planted by the trigger in every field a server error can carry. */
const MARKER = 'SERVER-FIELD-MARKER-3c1d';

/**
 * A trigger on treatment_goals that fails every `op` with the marker in the message (over
 * several lines shaped like stack frames), DETAIL, HINT and each identifier field, as a trigger
 * quoting row values could. `errcode` picks how the backfill treats it.
 */
async function installLeakyTrigger(knex: Knex, op: 'INSERT' | 'DELETE', errcode: string) {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION leak_marker() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION USING
        ERRCODE = '${errcode}',
        MESSAGE = E'rejected ${MARKER}\\n    at ${MARKER} (/srv/${MARKER}.js:1:2)\\n    at /srv/${MARKER}:3:4\\n    at ${MARKER}',
        DETAIL = E'detail ${MARKER}\\n    at ${MARKER}-detail (x.js:1:1)',
        HINT = 'hint ${MARKER}',
        CONSTRAINT = '${MARKER}-constraint',
        COLUMN = '${MARKER}-column',
        TABLE = '${MARKER}-table',
        SCHEMA = '${MARKER}-schema',
        DATATYPE = '${MARKER}-datatype';
    END $$`);
  await knex.raw('DROP TRIGGER IF EXISTS leak_marker ON treatment_goals');
  await knex.raw(
    `CREATE TRIGGER leak_marker BEFORE ${op} ON treatment_goals FOR EACH ROW EXECUTE FUNCTION leak_marker()`,
  );
}

/** Every text value of the backfill's bookkeeping tables, read directly. */
async function bookkeepingText(knex: Knex): Promise<string> {
  const tables = ['goal_backfill_runs', 'goal_backfill_failures'];
  const values: string[] = [];
  for (const table of tables) {
    const { rows } = await knex.raw(
      `SELECT column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = ?
          AND data_type IN ('text', 'character varying', 'jsonb', 'json')`,
      [table],
    );
    for (const { column_name: column } of rows as { column_name: string }[]) {
      const result = await knex.raw(`SELECT ??::text AS value FROM ??`, [column, table]);
      values.push(...(result.rows as { value: string | null }[]).map((row) => row.value ?? ''));
    }
  }
  return values.join('\n');
}

describe.skipIf(withoutServer)('no server text reaches any output or table', () => {
  let db: TestDatabase;
  let directory: string;
  const env = () => ({ DATABASE_URL: db.url });

  useMigratedDatabase((created) => {
    db = created;
  });

  beforeAll(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'goal-backfill-leak-'));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it.each([
    ['a session-level error, isolated and recorded per session', 'P0001', 'raise_exception'],
    ['a check violation, isolated and recorded per session', '23514', 'check_violation'],
    ['an error that stops the run', '42501', null],
  ])('run --verbose --error-log: %s (%s)', async (_name, errcode, condition) => {
    await seedKnownSessions(db.knex);
    await installLeakyTrigger(db.knex, 'INSERT', errcode);
    const file = path.join(directory, `run-${errcode}.jsonl`);
    try {
      const run = await runCli(['run', '--verbose', '--error-log', file], { env: env() });
      expect(run.code).toBe(1);
      const errorLog = readFileSync(file, 'utf8');
      const tables = await bookkeepingText(db.knex);
      expect(tables.length).toBeGreaterThan(0);
      const status = await runCli(['status', '--verbose'], { env: env() });
      expect(status.code).toBe(0);
      for (const output of [
        run.stdout,
        run.stderr,
        errorLog,
        tables,
        status.stdout,
        status.stderr,
      ]) {
        expect(output).not.toContain(MARKER);
      }
      if (condition !== null) {
        const failures = await db.knex('goal_backfill_failures').select('sql_state', 'message');
        expect(failures).toHaveLength(3);
        for (const failure of failures) {
          expect(failure).toEqual({ sql_state: errcode, message: condition });
        }
      } else {
        // The trace was printed, so the --verbose filter was exercised.
        expect(run.stderr).toMatch(/^ {4}at /m);
        expect(run.stderr).toContain('caused by: sqlstate_class_42 [42501]');
        const [record] = await db.knex('goal_backfill_runs').select('error_code');
        expect(record?.error_code).toBe('42501');
      }
    } finally {
      await db.knex.raw('DROP TRIGGER IF EXISTS leak_marker ON treatment_goals');
    }
  });

  it('run --json --log-format json --verbose: the same, as JSON', async () => {
    await seedKnownSessions(db.knex);
    await installLeakyTrigger(db.knex, 'INSERT', 'P0001');
    try {
      const run = await runCli(['run', '--json', '--log-format', 'json', '--verbose'], {
        env: env(),
      });
      expect(run.code).toBe(1);
      expect(run.stdout + run.stderr).not.toContain(MARKER);
      expect(await bookkeepingText(db.knex)).not.toContain(MARKER);
    } finally {
      await db.knex.raw('DROP TRIGGER IF EXISTS leak_marker ON treatment_goals');
    }
  });

  it.each([[['rollback', '--verbose']], [['rollback', '--json', '--log-format', 'json']]])(
    '%s stopped by the trigger: exit 1, no goal deleted, no server text',
    async (argv) => {
      await seedKnownSessions(db.knex);
      expect((await runCli(['run'], { env: env() })).code).toBe(0);
      await installLeakyTrigger(db.knex, 'DELETE', 'P0001');
      try {
        const run = await runCli(argv, { env: env() });
        expect(run.code).toBe(1);
        expect(run.stdout + run.stderr).not.toContain(MARKER);
        expect(await bookkeepingText(db.knex)).not.toContain(MARKER);
        expect(await db.knex('treatment_goals').count({ n: '*' })).toEqual([{ n: '3' }]);
      } finally {
        await db.knex.raw('DROP TRIGGER IF EXISTS leak_marker ON treatment_goals');
      }
    },
  );
});

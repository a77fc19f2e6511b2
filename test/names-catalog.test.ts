import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { runBackfill } from '../src/backfill/run';
import { silentLogger } from '../src/logging';
import {
  APP_CONSTRAINTS,
  COLUMNS,
  CONSTRAINTS,
  DESCRIPTION_KEY_FUNCTION,
  GOAL_DEDUP_INDEX,
  GOAL_LOOKUP_INDEX,
  INDEXES,
  ROUTINES,
  SESSION_READ_INDEX,
  TABLES,
} from '../src/names';
import { insertSessions, insertUsers } from './support/fixtures';
import { type TestDatabase, useMigratedDatabase } from './support/test-database';

let db: TestDatabase;

useMigratedDatabase((created) => {
  db = created;
});

async function rows<T>(sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<T[]> {
  return (await db.knex.raw<{ rows: T[] }>(sql, bindings)).rows;
}

/** The columns of `table`, in the catalog's order. */
async function columnsOf(table: string): Promise<string[]> {
  const found = await rows<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute
      WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  );
  return found.map((row) => row.name);
}

describe('src/names.ts against a database after a run', () => {
  it('names every table, column, index, constraint, trigger and function the schema and a run create', async () => {
    const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
    await insertSessions(db.knex, [
      { patientId: patient, sessionDate: '2024-01-01T00:00:00Z', notes: { action_items: [] } },
    ]);
    await runBackfill({ knex: db.knex, logger: silentLogger });

    for (const table of Object.values(TABLES)) {
      expect(await columnsOf(table), table).not.toEqual([]);
    }
    // The treatment_goals of a migrated empty database is this package's: all its columns are named.
    expect(await columnsOf(TABLES.goals)).toEqual(COLUMNS.goals);
    expect(await columnsOf(TABLES.runs)).toEqual(COLUMNS.runs);
    expect(await columnsOf(TABLES.failures)).toEqual(COLUMNS.failures);
    expect(await columnsOf(TABLES.sessionChanges)).toEqual(COLUMNS.sessionChanges);
    expect(await columnsOf(TABLES.sessions)).toEqual(expect.arrayContaining([...COLUMNS.sessions]));

    const ours = [TABLES.goals, TABLES.runs, TABLES.failures, TABLES.sessionChanges];
    const keys = await rows<{ name: string }>(
      `SELECT conname AS name FROM pg_constraint
        WHERE conrelid = ANY (SELECT to_regclass(t) FROM unnest(CAST(? AS text[])) AS t)
          AND contype IN ('p', 'f', 'c', 'u', 'x')
       UNION
       SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = ANY (SELECT to_regclass(t) FROM unnest(CAST(? AS text[])) AS t)
           OR c.oid = to_regclass(?)`,
      [ours, ours, SESSION_READ_INDEX],
    );
    // Only the treatment_goals of goal-backfill 0.1.0 has its unique index and its two checks.
    const firstVersionOnly = new Set<string>([
      GOAL_DEDUP_INDEX,
      CONSTRAINTS.goalOrigin,
      CONSTRAINTS.goalProvenance,
    ]);
    expect(new Set(keys.map((row) => row.name))).toEqual(
      new Set(
        [
          ...Object.values(CONSTRAINTS),
          ...Object.values(INDEXES),
          GOAL_LOOKUP_INDEX,
          SESSION_READ_INDEX,
        ].filter((name) => !firstVersionOnly.has(name)),
      ),
    );
    const userChecks = await rows<{ name: string }>(
      `SELECT conname AS name FROM pg_constraint WHERE conrelid = to_regclass(?) AND contype = 'c'`,
      [TABLES.users],
    );
    expect(userChecks.map((row) => row.name)).toEqual(Object.values(APP_CONSTRAINTS));

    const triggers = await rows<{ name: string }>(
      `SELECT tgname AS name FROM pg_trigger
        WHERE tgrelid = to_regclass(?) AND NOT tgisinternal ORDER BY tgname`,
      [TABLES.goals],
    );
    expect(triggers.map((row) => row.name)).toEqual(
      [ROUTINES.goalTouchTrigger, ROUTINES.goalBaselineTrigger].sort(),
    );
    // The capture trigger on therapy_sessions lives only while a run goes; its function stays.
    const functions = [
      DESCRIPTION_KEY_FUNCTION,
      ROUTINES.goalFingerprintFunction,
      ROUTINES.goalTouchFunction,
      ROUTINES.goalBaselineFunction,
      ROUTINES.sessionCaptureFunction,
    ];
    const found = await rows<{ name: string }>(
      'SELECT proname AS name FROM pg_proc WHERE proname = ANY (CAST(? AS text[]))',
      [functions],
    );
    expect(new Set(found.map((row) => row.name))).toEqual(new Set(functions));
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../src/backfill/run';
import { RollbackFailedError } from '../src/errors';
import { silentLogger } from '../src/logging';
import { type RollbackResult, rollbackBackfill } from '../src/rollback';
import { startBin } from './cli/bin-process';
import { CapturingLogger } from './support/capturing-logger';
import {
  insertClinicianGoal,
  insertSessions,
  insertUsers,
  readGoals,
  tableCounts,
} from './support/fixtures';
import { onPglite, type TestDatabase, useMigratedDatabase } from './support/test-database';

let db: TestDatabase;
let patient: string;

useMigratedDatabase((created) => {
  db = created;
});

/** Six backfilled goals, one clinician goal, one goal whose status a clinician moved, one edited. */
beforeEach(async () => {
  [patient = ''] = await insertUsers(db.knex, 1, 'patient');
  await insertSessions(db.knex, [
    {
      patientId: patient,
      sessionDate: '2024-01-01T00:00:00Z',
      notes: {
        action_items: ['Walk', 'Read', 'Sleep', 'Journal', 'Stretch', 'Call'].map((task) => ({
          task,
        })),
      },
    },
  ]);
  await insertClinicianGoal(db.knex, { patientId: patient, description: 'Entered by hand' });
  await runBackfill({ knex: db.knex, logger: silentLogger });
  await db.knex('treatment_goals').where({ description: 'Walk' }).update({ status: 'in_progress' });
  await db
    .knex('treatment_goals')
    .where({ description: 'Read' })
    .update({ updated_at: db.knex.fn.now() });
});

async function descriptions(): Promise<string[]> {
  return (await readGoals(db.knex)).map((goal) => goal.description).sort();
}

describe('rollbackBackfill', () => {
  it('deletes only the unchanged backfilled goals and reports what it kept', async () => {
    const logger = new CapturingLogger();
    const result = await rollbackBackfill({ knex: db.knex, logger, batchSize: 2 });
    expect(result).toMatchObject({ deleted: 4, keptChanged: 2, keptClinician: 1, dryRun: false });
    expect(await descriptions()).toEqual(['Entered by hand', 'Read', 'Walk']);
    expect(logger.named('rollback.finish')[0]?.fields).toMatchObject({
      deleted: 4,
      keptChanged: 2,
    });
  });

  it('brings the same goals back when the backfill runs again', async () => {
    const before = await readGoals(db.knex);
    await rollbackBackfill({ knex: db.knex, logger: silentLogger });
    const rerun = await runBackfill({ knex: db.knex, logger: silentLogger });
    expect(rerun.goalsCreated).toBe(4);
    const strip = (goals: typeof before) => goals.map(({ status: _status, ...goal }) => goal);
    expect(strip(await readGoals(db.knex))).toEqual(strip(before));
  });

  it('in a dry run counts what it would delete and deletes nothing', async () => {
    const before = await tableCounts(db.knex);
    const result = await rollbackBackfill({ knex: db.knex, logger: silentLogger, dryRun: true });
    expect(result).toMatchObject({ deleted: 4, keptChanged: 2, keptClinician: 1, dryRun: true });
    expect(await tableCounts(db.knex)).toEqual(before);
  });

  it('deletes changed backfilled goals too when asked, warning first, and never clinician goals', async () => {
    const logger = new CapturingLogger();
    const result = await rollbackBackfill({ knex: db.knex, logger, includeChanged: true });
    expect(result).toMatchObject({ deleted: 6, keptChanged: 0, keptClinician: 1 });
    expect(await descriptions()).toEqual(['Entered by hand']);
    const warning = logger.events.findIndex((e) => e.event === 'rollback.include_changed');
    expect(warning).toBeGreaterThanOrEqual(0);
    expect(logger.events[warning]?.level).toBe('warn');
    expect(logger.events[warning]?.fields).toMatchObject({ changedGoals: 2 });
  });

  it('drops an interrupted run’s checkpoint, so no later run resumes past deleted goals', async () => {
    await db.knex('goal_backfill_runs').insert({
      invoked_by: 'cli',
      status: 'interrupted',
      batch_size: 10,
      cursor_patient_id: patient,
      cursor_session_date: '2024-01-01T00:00:00Z',
      cursor_session_id: patient,
    });
    const result = await rollbackBackfill({ knex: db.knex, logger: silentLogger });
    expect(result.checkpointsAbandoned).toBe(1);
    const rerun = await runBackfill({ knex: db.knex, logger: silentLogger });
    expect(rerun.resumed).toBe(false);
    expect(rerun.goalsCreated).toBe(4);
  });
});

/** The backfilled goals nobody changed, by id. */
async function unchangedBackfilledIds(): Promise<string[]> {
  const result = await db.knex.raw<{ rows: { id: string }[] }>(
    `SELECT id FROM treatment_goals WHERE origin = 'backfill' AND clinician_touched_at IS NULL
      ORDER BY id`,
  );
  return result.rows.map((row) => row.id);
}

/** Direct counts of what the table holds, as the next process finds it. */
async function directCounts(): Promise<{ backfilled: number; clinician: number }> {
  const result = await db.knex.raw<{ rows: { backfilled: number; clinician: number }[] }>(
    `SELECT count(*) FILTER (WHERE origin = 'backfill')::int AS backfilled,
            count(*) FILTER (WHERE coalesce(origin, 'clinician') = 'clinician')::int AS clinician
       FROM treatment_goals`,
  );
  return result.rows[0] ?? { backfilled: -1, clinician: -1 };
}

/**
 * After each DELETE statement of the rollback, its backend waits for advisory lock (4242, 1):
 * holding that lock, a test sees the rollback stopped between two batches, for as long as it
 * likes, whatever the machine's speed.
 */
async function pauseRollbackBetweenBatches(): Promise<void> {
  await db.knex.raw(
    `CREATE FUNCTION test_pause_rollback() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF current_setting('application_name') = 'goal-backfill rollback' THEN
           PERFORM pg_advisory_lock(4242, 1);
           PERFORM pg_advisory_unlock(4242, 1);
         END IF;
         RETURN NULL;
       END $$`,
  );
  await db.knex.raw(
    `CREATE TRIGGER test_pause_rollback AFTER DELETE ON treatment_goals
       FOR EACH STATEMENT EXECUTE FUNCTION test_pause_rollback()`,
  );
}

/** Resolves once the rollback's backend waits for lock (4242, 1). */
async function rollbackPaused(): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const result = await db.knex.raw<{ rows: unknown[] }>(
      `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = 4242 AND l.objid = 1
          AND a.application_name = 'goal-backfill rollback' AND a.datname = current_database()`,
    );
    if (result.rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the rollback never paused after its first batch');
}

describe.skipIf(onPglite)('the counts a rollback reports', () => {
  afterEach(async () => {
    await db.knex.raw('DROP TRIGGER IF EXISTS test_pause_rollback ON treatment_goals');
    await db.knex.raw('DROP FUNCTION IF EXISTS test_pause_rollback()');
  });

  it('are taken after its deletes: goals edited and entered while it runs are counted as kept', async () => {
    await pauseRollbackBetweenBatches();
    // The two unchanged goals last by id: past the first batch of one goal.
    const toEdit = (await unchangedBackfilledIds()).slice(-2);
    const app = await db.knex.transaction();
    let rollback: Promise<RollbackResult> | undefined;
    try {
      await app.raw('SELECT pg_advisory_xact_lock(4242, 1)');
      rollback = rollbackBackfill({ knex: db.knex, logger: silentLogger, batchSize: 1 });
      await rollbackPaused();
      await app('treatment_goals').whereIn('id', toEdit).update({ details: 'Edited meanwhile' });
      await insertClinicianGoal(app, { patientId: patient, description: 'Entered meanwhile' });
      // Commits the edits and lets the rollback go on, at once.
      await app.commit();
    } catch (err) {
      await app.rollback();
      await rollback?.catch(() => undefined);
      throw err;
    }
    const result = await rollback;
    const table = await directCounts();
    expect(table).toEqual({ backfilled: 4, clinician: 2 });
    expect(result).toMatchObject({
      deleted: 2,
      keptChanged: table.backfilled,
      keptClinician: table.clinician,
    });
    expect(await unchangedBackfilledIds()).toEqual([]);
  });
});

const MARKER = 'ROW-VALUE-MARKER-7f3a';

describe('a rollback that an app trigger stops part-way', () => {
  let failing: string;

  /** An app trigger that refuses to delete the last unchanged goal by id, quoting its row. */
  beforeEach(async () => {
    failing = (await unchangedBackfilledIds()).at(-1) ?? '';
    await db.knex.raw(
      `CREATE FUNCTION test_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF OLD.id = '${failing}' THEN
             RAISE EXCEPTION '${MARKER} cannot delete %', OLD.description
               USING DETAIL = '${MARKER} ' || OLD.description, HINT = '${MARKER}',
                     COLUMN = '${MARKER}', TABLE = '${MARKER}', CONSTRAINT = '${MARKER}';
           END IF;
           RETURN OLD;
         END $$`,
    );
    await db.knex.raw(
      `CREATE TRIGGER test_refuse_delete BEFORE DELETE ON treatment_goals
         FOR EACH ROW EXECUTE FUNCTION test_refuse_delete()`,
    );
  });

  afterEach(async () => {
    await db.knex.raw('DROP TRIGGER IF EXISTS test_refuse_delete ON treatment_goals');
    await db.knex.raw('DROP FUNCTION IF EXISTS test_refuse_delete()');
  });

  it('says how many goals it deleted, that they stay deleted, and the SQLSTATE, quoting no row', async () => {
    const logger = new CapturingLogger();
    const error = await rollbackBackfill({ knex: db.knex, logger, batchSize: 1 }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(RollbackFailedError);
    const failed = error as RollbackFailedError;
    // The three unchanged goals before the refused one by id were deleted, in batches of one.
    const deleted = 6 - (await directCounts()).backfilled;
    expect(deleted).toBe(3);
    expect(failed.deleted).toBe(deleted);
    expect(failed.message).toBe(
      `rollback stopped after deleting ${deleted} backfilled goal(s): raise_exception [P0001]. ` +
        'Deleted goals stay deleted: run the rollback again to delete the rest',
    );
    expect(logger.named('rollback.finish')).toEqual([]);
    expect(`${failed.message} ${failed.stack} ${logger.text()}`).not.toContain(MARKER);

    // Rerunning goes on from there, once the trigger lets it.
    await db.knex.raw('DROP TRIGGER test_refuse_delete ON treatment_goals');
    const rerun = await rollbackBackfill({ knex: db.knex, logger: silentLogger });
    expect(rerun).toMatchObject({ deleted: 1, keptChanged: 2, keptClinician: 1 });
  });

  it.skipIf(onPglite)(
    'goal-backfill rollback prints it as one line and exits 1, with the count the table shows (--verbose too)',
    async () => {
      const finished = await startBin(['rollback', '--batch-size', '1', '--verbose'], {
        DATABASE_URL: db.url,
      }).done;
      const deleted = 6 - (await directCounts()).backfilled;
      expect(deleted).toBe(3);
      expect(finished.code).toBe(1);
      const errors = finished.stderr
        .split('\n')
        .filter((line) => line.startsWith('goal-backfill: error:'));
      expect(errors).toEqual([
        `goal-backfill: error: rollback stopped after deleting ${deleted} backfilled goal(s): ` +
          'raise_exception [P0001]. Deleted goals stay deleted: run the rollback again to ' +
          'delete the rest [ROLLBACK_FAILED]',
      ]);
      expect(finished.stdout + finished.stderr).not.toContain(MARKER);
    },
  );

  it('through npx knex migrate:down too: the error Knex prints is the same one line', async () => {
    const error = await db.knex.migrate.down().catch((err: unknown) => err);
    try {
      const deleted = 6 - (await directCounts()).backfilled;
      // The migration loads its own copy of the library: the class is matched by its name.
      expect(error).toMatchObject({
        name: 'RollbackFailedError',
        code: 'ROLLBACK_FAILED',
        deleted,
      });
      expect((error as Error).stack).toBe(
        `RollbackFailedError: rollback stopped after deleting ${deleted} backfilled goal(s): ` +
          'raise_exception [P0001]. Deleted goals stay deleted: run the rollback again to ' +
          'delete the rest',
      );
    } finally {
      await db.knex.raw('DROP TRIGGER IF EXISTS test_refuse_delete ON treatment_goals');
      await db.knex.migrate.latest();
    }
  });
});

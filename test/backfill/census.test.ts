import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { BackfillUnverifiedError } from '../../src/errors';
import { silentLogger } from '../../src/logging';
import { runCli } from '../cli/cli-harness';
import {
  expectCountsToEqualModel,
  expectGoalsToEqualModel,
  runStoppedAfterFirstPage,
} from '../support/backfill-assertions';
import {
  countRows,
  type InsertedSession,
  insertSessions,
  insertUsers,
  readGoals,
  type SessionSpec,
} from '../support/fixtures';
import { modelBackfill } from '../support/reference-model';
import { onPglite, type TestDatabase, useMigratedDatabase } from '../support/test-database';

let db: TestDatabase;
useMigratedDatabase((created) => {
  db = created;
});

let patients: string[];
beforeEach(async () => {
  patients = (await insertUsers(db.knex, 3, 'patient')).sort();
});

const TASKS = ['Walk daily', 'Sleep log', 'Journal', 'Breathing'];

function specs(count: number): SessionSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    patientId: patients[i % patients.length] ?? '',
    sessionDate: new Date(Date.UTC(2024, 0, 1 + ((i * 7) % 31), 9, i % 60)).toISOString(),
    notes: { action_items: [{ task: TASKS[i % TASKS.length] ?? '' }, { task: `Task ${i % 9}` }] },
  }));
}

/** Sessions whose key has a NULL, as an app that made the columns nullable can hold. */
async function insertKeylessSessions(): Promise<number> {
  await db.knex.raw('ALTER TABLE therapy_sessions ALTER COLUMN session_date DROP NOT NULL');
  await db.knex.raw('ALTER TABLE therapy_sessions ALTER COLUMN patient_id DROP NOT NULL');
  const notes = JSON.stringify({ action_items: [{ task: 'Never read' }] });
  const rows = [
    { patient_id: patients[0], session_date: null },
    { patient_id: patients[0], session_date: null },
    { patient_id: patients[1], session_date: null },
    { patient_id: null, session_date: '2024-01-05T10:00:00Z' },
  ].map((row) => ({ ...row, id: randomUUID(), extracted_notes: notes }));
  await db.knex('therapy_sessions').insert(rows);
  return rows.length;
}

describe('sessions with a NULL in their key', () => {
  it('are counted as session_key_null and never end the run early', async () => {
    const sessions = await insertSessions(db.knex, specs(40));
    const keyless = await insertKeylessSessions();
    const model = modelBackfill(sessions);
    const expectedCounts = {
      ...model.counts,
      sessionsProcessed: model.counts.sessionsProcessed + keyless,
      sessionsSkippedByReason: {
        ...model.counts.sessionsSkippedByReason,
        session_key_null: keyless,
      },
    };

    const dry = await runBackfill({
      knex: db.knex,
      logger: silentLogger,
      batchSize: 4,
      dryRun: true,
    });
    expectCountsToEqualModel(dry, expectedCounts);
    expect(await countRows(db.knex, 'treatment_goals')).toBe(0);

    const result = await runBackfill({ knex: db.knex, logger: silentLogger, batchSize: 4 });
    expect(result.outcome).toBe('completed');
    expect(result.sessionsProcessed).toBe(await countRows(db.knex, 'therapy_sessions'));
    expectCountsToEqualModel(result, expectedCounts);
    await expectGoalsToEqualModel(db.knex, model.goals);
    const [run] = await db.knex('goal_backfill_runs').where({ id: result.runId }).select('*');
    expect(run?.status).toBe('succeeded');
    expect(run?.counts.sessionsSkippedByReason.session_key_null).toBe(keyless);
  });

  it.skipIf(onPglite)('are reported by the CLI, in the summary and in --json', async () => {
    await insertSessions(db.knex, specs(12));
    const keyless = await insertKeylessSessions();
    const env = { DATABASE_URL: db.url };
    const json = await runCli(['run', '--json', '--batch-size', '5', '--dry-run'], { env });
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout);
    expect(summary.sessionsSkippedByReason.session_key_null).toBe(keyless);
    expect(summary.sessionsProcessed).toBe(12 + keyless);
    const text = await runCli(['run', '--batch-size', '5'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`  session_key_null: ${keyless}`);
    const [run] = await db.knex('goal_backfill_runs').select('status', 'counts');
    expect(run?.status).toBe('succeeded');
    expect(run?.counts.sessionsProcessed).toBe(12 + keyless);
  });
});

describe('the check before completed', () => {
  async function interruptedRun(sessions: InsertedSession[]): Promise<string> {
    const first = await runStoppedAfterFirstPage(db.knex, 5);
    expect(first.outcome).toBe('interrupted');
    expect(first.sessionsProcessed).toBeLessThan(sessions.length);
    return first.runId ?? '';
  }

  /**
   * Moves the checkpoint of an interrupted run to `key`: in its one lane (the form this version
   * saves), or in the `cursor_*` columns of a pass without lanes (the form earlier versions
   * saved, which a resume still reads).
   */
  async function moveCheckpoint(
    runId: string,
    form: 'lanes' | 'cursor columns',
    key: { patientId: string; sessionDate: string; id: string } | undefined,
  ): Promise<void> {
    const [row] = await db.knex('goal_backfill_runs').where({ id: runId }).select('read_pass');
    const { split, ...window } = row?.read_pass ?? {};
    expect(split?.lanes).toHaveLength(1);
    const cursor = { patientId: key?.patientId, sessionDate: key?.sessionDate, sessionId: key?.id };
    if (form === 'lanes') {
      const lanes = [{ ...split.lanes[0], cursor }];
      await db
        .knex('goal_backfill_runs')
        .where({ id: runId })
        .update({ read_pass: JSON.stringify({ ...window, split: { ...split, lanes } }) });
      return;
    }
    await db
      .knex('goal_backfill_runs')
      .where({ id: runId })
      .update({
        read_pass: JSON.stringify(window),
        counts: JSON.stringify(split.lanes[0].counts),
        cursor_patient_id: cursor.patientId,
        cursor_session_date: cursor.sessionDate,
        cursor_session_id: cursor.sessionId,
      });
  }

  it.each(['lanes', 'cursor columns'] as const)(
    'refuses to report completed when the reads fall short of the table (checkpoint in %s)',
    async (form) => {
      const sessions = await insertSessions(db.knex, specs(60));
      const runId = await interruptedRun(sessions);
      // A cursor moved past sessions it never read, as a setting once moved it.
      const ahead = [...sessions].sort((a, b) =>
        a.patientId !== b.patientId
          ? a.patientId < b.patientId
            ? -1
            : 1
          : a.sessionDate !== b.sessionDate
            ? a.sessionDate < b.sessionDate
              ? -1
              : 1
            : a.id < b.id
              ? -1
              : 1,
      )[40];
      await moveCheckpoint(runId, form, ahead);

      const error = await runBackfill({ knex: db.knex, logger: silentLogger, batchSize: 5 }).catch(
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(BackfillUnverifiedError);
      expect(error).toMatchObject({
        code: 'UNVERIFIED',
        runId,
        shortfall: { pass: 0, expected: 60, beyondLastPage: 0 },
      });
      expect((error as BackfillUnverifiedError).shortfall.read).toBeLessThan(60);
      const [run] = await db.knex('goal_backfill_runs').where({ id: runId }).select('*');
      expect(run).toMatchObject({
        status: 'interrupted',
        error_code: 'UNVERIFIED',
        cursor_patient_id: null,
        cursor_session_id: null,
        read_pass: null,
      });

      // The next run starts over and completes what was missed.
      const rerun = await runBackfill({ knex: db.knex, logger: silentLogger, batchSize: 5 });
      expect(rerun).toMatchObject({ outcome: 'completed', resumed: false, sessionsProcessed: 60 });
      // Every goal is there; those the first run wrote from a later session keep that session.
      const pairs = (goals: { patient_id: string; description: string }[]) =>
        goals.map((goal) => `${goal.patient_id} ${goal.description}`).sort();
      expect(pairs(await readGoals(db.knex))).toEqual(pairs(modelBackfill(sessions).goals));
    },
  );

  it('lets a resumed run that read everything complete', async () => {
    const sessions = await insertSessions(db.knex, specs(60));
    await interruptedRun(sessions);
    const result = await runBackfill({ knex: db.knex, logger: silentLogger, batchSize: 5 });
    expect(result).toMatchObject({ outcome: 'completed', resumed: true, sessionsProcessed: 60 });
    await expectGoalsToEqualModel(db.knex, modelBackfill(sessions).goals);
  });

  it('resumes a run an earlier version saved, its checkpoint in the cursor columns', async () => {
    const sessions = await insertSessions(db.knex, specs(60));
    const runId = await interruptedRun(sessions);
    const [row] = await db.knex('goal_backfill_runs').where({ id: runId }).select('read_pass');
    const saved = row?.read_pass.split.lanes[0];
    const key = { patientId: saved.cursor.patientId, sessionDate: saved.cursor.sessionDate };
    await moveCheckpoint(runId, 'cursor columns', { ...key, id: saved.cursor.sessionId });

    const result = await runBackfill({ knex: db.knex, logger: silentLogger, batchSize: 5 });
    expect(result).toMatchObject({ outcome: 'completed', resumed: true, sessionsProcessed: 60 });
    expectCountsToEqualModel(result, modelBackfill(sessions).counts);
    await expectGoalsToEqualModel(db.knex, modelBackfill(sessions).goals);
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import type { SessionFailure } from '../../src/errors';
import { expectReconciled } from '../support/backfill-assertions';
import { CapturingLogger } from '../support/capturing-logger';
import { dropRejectingTrigger, installRejectingTrigger } from '../support/database-faults';
import { insertSessions, insertUsers, readGoals, type SessionSpec } from '../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';

const MARKER = 'PLANTED-HEALTH-TEXT-7f3a';

let db: TestDatabase;

useMigratedDatabase((created) => {
  db = created;
});

beforeEach(async () => {
  await dropRejectingTrigger(db.knex);
});

async function seedManyPages(): Promise<{ rejected: string; specs: SessionSpec[] }> {
  const patients = await insertUsers(db.knex, 12, 'patient');
  const specs: SessionSpec[] = Array.from({ length: 95 }, (_, i) => ({
    patientId: patients[i % 12] ?? '',
    sessionDate: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
    notes: { action_items: [{ task: `Task ${i}` }, { task: 'Shared task' }] },
  }));
  specs[40] = {
    ...specs[40],
    patientId: specs[40]?.patientId ?? '',
    sessionDate: specs[40]?.sessionDate ?? '',
    notes: {
      action_items: [
        { task: 'Fine on its own', details: `note ${MARKER}` },
        { task: `Refused ${MARKER}`, details: `details ${MARKER}` },
        'not an object',
      ],
    },
  };
  const inserted = await insertSessions(db.knex, specs);
  return { rejected: inserted[40]?.id ?? '', specs };
}

describe('a session the database rejects', () => {
  it('is rolled back, counted and recorded, and every other session is written', async () => {
    const { rejected } = await seedManyPages();
    await installRejectingTrigger(db.knex, MARKER);
    const logger = new CapturingLogger();
    const reported: SessionFailure[] = [];

    const result = await runBackfill({
      knex: db.knex,
      logger,
      batchSize: 10,
      logSessionDecisions: true,
      onSessionFailed: (failure) => reported.push(failure),
    });

    expect(result.errors).toBe(1);
    expect(result.itemsInFailedSessions).toBe(3);
    expect(result.sessionsProcessed).toBe(95);
    expectReconciled(result);
    expect(result.failures).toEqual([
      expect.objectContaining({ sessionId: rejected, sqlState: 'P0001' }),
    ]);
    expect(reported).toEqual(result.failures);

    const goals = await readGoals(db.knex);
    expect(goals.filter((goal) => goal.session_id === rejected)).toEqual([]);
    // 94 sessions each give their own task, and the shared task once per patient.
    expect(goals.length).toBe(94 + 12);
    expect(result.goalsCreated).toBe(goals.length);

    const failures = await db.knex('goal_backfill_failures').select('*');
    expect(failures).toEqual([
      expect.objectContaining({ run_id: result.runId, session_id: rejected, sql_state: 'P0001' }),
    ]);
    expect(JSON.stringify(failures)).not.toContain(MARKER);
    expect(JSON.stringify(result)).not.toContain(MARKER);
    expect(logger.text()).not.toContain(MARKER);
    expect(logger.named('backfill.session_failed')).toHaveLength(1);

    const [run] = await db.knex('goal_backfill_runs').select('status');
    expect(run?.status).toBe('completed_with_errors');
  });

  it('is written by the next run once the cause is fixed', async () => {
    const { rejected } = await seedManyPages();
    await installRejectingTrigger(db.knex, MARKER);
    await runBackfill({ knex: db.knex, logger: new CapturingLogger(), batchSize: 10 });
    await db.knex.raw('DROP TRIGGER reject_marked_goal ON treatment_goals');

    const rerun = await runBackfill({
      knex: db.knex,
      logger: new CapturingLogger(),
      batchSize: 10,
    });
    expect(rerun.errors).toBe(0);
    expect(rerun.goalsCreated).toBe(2);
    const goals = await readGoals(db.knex);
    expect(
      goals.filter((goal) => goal.session_id === rejected).map((goal) => goal.source_item_index),
    ).toEqual([0, 1]);
  });

  it('is isolated for a constraint violation too, with the constraint named', async () => {
    const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
    await db.knex.raw(
      'ALTER TABLE treatment_goals ADD CONSTRAINT short_category CHECK (length(category) < 20)',
    );
    try {
      const inserted = await insertSessions(db.knex, [
        {
          patientId: patient,
          sessionDate: '2024-01-01T00:00:00Z',
          notes: { action_items: [{ task: 'A' }] },
        },
        {
          patientId: patient,
          sessionDate: '2024-01-02T00:00:00Z',
          notes: { action_items: [{ task: 'B', category: `${MARKER} far too long a category` }] },
        },
        {
          patientId: patient,
          sessionDate: '2024-01-03T00:00:00Z',
          notes: { action_items: [{ task: 'C' }] },
        },
      ]);
      const logger = new CapturingLogger();
      const result = await runBackfill({ knex: db.knex, logger });
      expect(result.errors).toBe(1);
      expect(result.goalsCreated).toBe(2);
      expect(result.failures[0]).toMatchObject({
        sessionId: inserted[1]?.id,
        sqlState: '23514',
        message: 'check_violation (table treatment_goals)',
      });
      expect(logger.text()).not.toContain(MARKER);
    } finally {
      await db.knex.raw('ALTER TABLE treatment_goals DROP CONSTRAINT short_category');
    }
  });
});

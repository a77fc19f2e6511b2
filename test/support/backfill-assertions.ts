import type { Knex } from 'knex';
import { expect } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import type { BackfillResult } from '../../src/backfill/store';
import { silentLogger } from '../../src/logging';
import { type GoalRow, readGoals } from './fixtures';
import type { ModelCounts, ModelGoal } from './reference-model';

export async function resetData(knex: Knex): Promise<void> {
  await knex.raw(
    'TRUNCATE users, therapy_sessions, treatment_goals, goal_backfill_runs, goal_backfill_failures CASCADE',
  );
}

/** Orders goals by patient, then description: the order the goal comparisons read them in. */
export function byPatientDescription<T extends { patient_id: string; description: string }>(
  a: T,
  b: T,
): number {
  if (a.patient_id !== b.patient_id) return a.patient_id < b.patient_id ? -1 : 1;
  if (a.description !== b.description) return a.description < b.description ? -1 : 1;
  return 0;
}

function comparable(goal: GoalRow | ModelGoal) {
  return {
    patient_id: goal.patient_id,
    therapist_id: goal.therapist_id,
    session_id: goal.session_id,
    description: goal.description,
    category: goal.category,
    details: goal.details,
    source_item_index: goal.source_item_index,
    created_at: new Date('created_at' in goal ? goal.created_at : goal.sessionDate).toISOString(),
  };
}

/** The backfilled goals in the database equal the model's, field by field. */
export async function expectGoalsToEqualModel(knex: Knex, expected: ModelGoal[]): Promise<void> {
  const actual = (await readGoals(knex)).filter((goal) => goal.origin === 'backfill');
  for (const goal of actual) expect(goal.status).toBe('assigned');
  expect(actual.sort(byPatientDescription).map(comparable)).toEqual(
    [...expected].sort(byPatientDescription).map(comparable),
  );
}

/** The result's counts equal the model's, and they reconcile. */
export function expectCountsToEqualModel(result: BackfillResult, counts: ModelCounts): void {
  expect({
    sessionsProcessed: result.sessionsProcessed,
    sessionsWithActionItems: result.sessionsWithActionItems,
    itemsSeen: result.itemsSeen,
    goalsCreated: result.goalsCreated,
    duplicatesSkipped: result.duplicatesSkipped,
    invalidSkipped: result.invalidSkipped,
    invalidByReason: result.invalidByReason,
    sessionsSkippedByReason: result.sessionsSkippedByReason,
  }).toEqual(counts);
  expectReconciled(result);
}

/** items seen = created + duplicates + invalid + items of failed sessions. */
export function expectReconciled(result: BackfillResult): void {
  expect(result.itemsSeen).toBe(
    result.goalsCreated +
      result.duplicatesSkipped +
      result.invalidSkipped +
      result.itemsInFailedSessions,
  );
  const invalidSum = Object.values(result.invalidByReason).reduce((a, b) => a + (b ?? 0), 0);
  expect(invalidSum).toBe(result.invalidSkipped);
}

/** A real run stopped by its abort signal after its first page: an interrupted run with a checkpoint. */
export async function runStoppedAfterFirstPage(
  knex: Knex,
  batchSize: number,
): Promise<BackfillResult> {
  const controller = new AbortController();
  return runBackfill({
    knex,
    logger: silentLogger,
    batchSize,
    signal: controller.signal,
    onProgress: () => controller.abort(),
  });
}

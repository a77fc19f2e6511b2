import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../seeds/01_therapy_practice';
import { type SeedAndBackfillResult, seedAndBackfill } from '../../src/seed';
import { buildSeedPools } from '../../src/seed/pools';
import { SeedRefusedError } from '../../src/seed/reset';
import { DEFAULT_SEED } from '../../src/seed/settings';
import { expectCountsToEqualModel, expectGoalsToEqualModel } from '../support/backfill-assertions';
import { CapturingLogger } from '../support/capturing-logger';
import { tableCounts } from '../support/fixtures';
import { modelBackfill } from '../support/reference-model';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { countOf, readClinicianPairs, readSessionsForModel } from './seeded-data';

let db: TestDatabase;
let logger: CapturingLogger;
let result: SeedAndBackfillResult;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.migrateLatest();
  logger = new CapturingLogger();
  result = await seedAndBackfill({ knex: db.knex, logger });
});

afterAll(async () => {
  await db.drop();
});

describe('seedAndBackfill', () => {
  it('runs the shared backfill as the seed, and it completes without errors', async () => {
    const { backfill } = result;
    expect(backfill).toMatchObject({ outcome: 'completed', dryRun: false, errors: 0 });
    expect(backfill.goalsCreated).toBeGreaterThan(1000);
    expect(backfill.duplicatesSkipped).toBeGreaterThan(0);
    const runs = (
      await db.knex.raw<{ rows: { invoked_by: string; status: string }[] }>(
        'SELECT invoked_by, status FROM goal_backfill_runs',
      )
    ).rows;
    expect(runs).toEqual([{ invoked_by: 'seed', status: 'succeeded' }]);
    expect(
      await countOf(db.knex, "SELECT count(*) AS n FROM treatment_goals WHERE origin = 'backfill'"),
    ).toBe(backfill.goalsCreated);
  });

  it('counts exactly what the seed planned', () => {
    const { seeding, backfill } = result;
    const expected = seeding.expectedBackfill;
    expect({
      sessionsProcessed: backfill.sessionsProcessed,
      sessionsWithActionItems: backfill.sessionsWithActionItems,
      sessionsSkippedByReason: backfill.sessionsSkippedByReason,
      itemsSeen: backfill.itemsSeen,
      validItems: backfill.goalsCreated + backfill.duplicatesSkipped,
      invalidSkipped: backfill.invalidSkipped,
      invalidByReason: backfill.invalidByReason,
    }).toEqual(expected);
  });

  it('matches the reference model on the seeded sessions and clinician goals', async () => {
    const sessions = await readSessionsForModel(db.knex);
    const clinicianPairs = await readClinicianPairs(db.knex);
    expect(sessions).toHaveLength(2000);
    expect(clinicianPairs.size).toBe(result.seeding.clinicianGoals);
    const model = modelBackfill(sessions, clinicianPairs);
    await expectGoalsToEqualModel(db.knex, model.goals);
    expectCountsToEqualModel(result.backfill, model.counts);
    // Some clinician goals were met again in the sessions: without them there would be more goals.
    expect(modelBackfill(sessions).goals.length).toBeGreaterThan(model.goals.length);
  });

  it('logs the loading and the backfill summary: counts and ids, never health text', () => {
    const loaded = logger.named('seed.loaded')[0]?.fields;
    expect(loaded).toMatchObject({ users: 104, sessions: 2000 });
    const summary = logger.named('seed.backfill_summary')[0]?.fields;
    expect(summary).toMatchObject({
      runId: result.backfill.runId,
      sessionsProcessed: 2000,
      goalsCreated: result.backfill.goalsCreated,
      duplicatesSkipped: result.backfill.duplicatesSkipped,
      invalidSkipped: result.backfill.invalidSkipped,
      errors: 0,
    });
    expect(logger.named('backfill.finish')).toHaveLength(1);
    expect(logger.named('seed.finish')[0]?.fields).toMatchObject({
      loadMs: result.seeding.durationMs,
      backfillMs: result.backfill.elapsedMs,
    });
    const logged = logger.text();
    const pools = buildSeedPools(DEFAULT_SEED);
    for (const text of [
      ...pools.tasks.map((task) => task.task),
      ...pools.clinicianGoals,
      ...pools.firstNames.slice(0, 20),
    ]) {
      expect(logged).not.toContain(text);
    }
  });

  it('resets on a second run: same counts, no duplicate keys, one run recorded', async () => {
    const before = await tableCounts(db.knex);
    const again = await seedAndBackfill({ knex: db.knex, logger: new CapturingLogger() });
    expect(await tableCounts(db.knex)).toEqual(before);
    expect(before.goal_backfill_runs).toBe(1);
    expect(again.backfill.goalsCreated).toBe(result.backfill.goalsCreated);
  });
});

describe('the seed file', () => {
  it('refuses NODE_ENV=production and writes nothing', async () => {
    const before = await tableCounts(db.knex);
    const runsBefore = await countOf(
      db.knex,
      'SELECT count(*) AS n FROM goal_backfill_runs WHERE finished_at IS NOT NULL',
    );
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await expect(seed(db.knex)).rejects.toThrow(SeedRefusedError);
      await expect(seed(db.knex)).rejects.toThrow(/^refusing to seed: NODE_ENV is production\./);
    } finally {
      process.env.NODE_ENV = previous;
    }
    expect(await tableCounts(db.knex)).toEqual(before);
    expect(
      await countOf(
        db.knex,
        'SELECT count(*) AS n FROM goal_backfill_runs WHERE finished_at IS NOT NULL',
      ),
    ).toBe(runsBefore);
  });
});

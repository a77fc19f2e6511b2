import { sqlRunner } from '../db/sql-runner';
import { countPlannedShapes, type PlannedShapes } from './count-planned-shapes';
import type { GeneratorInput } from './generator-params';
import { inGeneratorTransaction } from './generator-transaction';
import { type InsertedClinicianGoals, insertClinicianGoals } from './insert-clinician-goals';
import { insertSeedSessions } from './insert-seed-sessions';
import { insertSeedUsers } from './insert-seed-users';
import { patientChunks } from './patient-chunks';
import { planPopulation } from './population';
import { resetSeededTables } from './reset-seeded-tables';
import { runConcurrently } from './run-concurrently';
import { resolveSeedOptions, type SeedDatabaseOptions } from './seed-options';
import { buildSeedPools } from './seed-pools';
import { expectedBackfillOf, type SeedStats } from './seed-stats';
import { assertOnlySeededRows } from './seeded-rows';

/**
 * Fills the database with a deterministic therapy practice: therapists, patients, a year of
 * sessions whose `extracted_notes` take every shape the backfill meets (see
 * seed-proportions.ts), and a few demo goals worded as clinicians enter them (origin 'seed').
 * It refuses a database holding rows the seeds did not create, and deletes the seeded tables'
 * rows first, so running it again gives the same rows, ids included.
 *
 * Every row is generated inside PostgreSQL by set-based statements over generate_series,
 * hashing each row's number instead of calling random(); Faker words the pools the rows draw
 * from, which travel as one JSON parameter. The sessions are inserted in patient ranges,
 * `concurrency` statements at a time, each in its own transaction: a failed seed can leave
 * part of the data, and the next run starts over. Returns what it generated; it does not run
 * the backfill (see {@link seedAndBackfill}).
 */
export async function seedDatabase(options: SeedDatabaseOptions): Promise<SeedStats> {
  const { knex, logger, sessions, seed, concurrency, sessionsPerChunk } =
    resolveSeedOptions(options);
  const startedAt = performance.now();
  const elapsedMs = () => Math.round(performance.now() - startedAt);
  const population = planPopulation(sessions);
  const input: GeneratorInput = { seed, sessions, population, pools: buildSeedPools(seed) };
  // Refused before anything is logged, so that a refusal is one line.
  await assertOnlySeededRows(sqlRunner(knex));
  logger.info('seed.start', { sessions, seed, concurrency, ...population });

  await resetSeededTables(sqlRunner(knex));
  const users = await inGeneratorTransaction(knex, (db) => insertSeedUsers(db, input));

  let sessionsInserted = 0;
  let planned: PlannedShapes | undefined;
  let goals: InsertedClinicianGoals = { goals: 0, fromCarePlan: 0 };
  // The small statements first, so they overlap the session inserts instead of trailing them.
  const jobs: (() => Promise<void>)[] = [
    async () => {
      planned = await inGeneratorTransaction(knex, (db) => countPlannedShapes(db, input));
    },
    async () => {
      goals = await inGeneratorTransaction(knex, (db) => insertClinicianGoals(db, input));
    },
    ...patientChunks(population.patients, sessions, sessionsPerChunk).map((range) => async () => {
      const chunkStartedAt = performance.now();
      const inserted = await inGeneratorTransaction(knex, (db) =>
        insertSeedSessions(db, input, range),
      );
      sessionsInserted += inserted;
      logger.info('seed.progress', {
        firstPatient: range.first,
        lastPatient: range.last,
        sessionsInserted,
        totalSessions: sessions,
        chunkMs: Math.round(performance.now() - chunkStartedAt),
        elapsedMs: elapsedMs(),
      });
    }),
  ];
  await runConcurrently(jobs, concurrency, (job) => job());
  if (planned === undefined) throw new Error('the planned shapes were not counted');

  const stats: SeedStats = {
    seed,
    sessions: sessionsInserted,
    therapists: users.therapists,
    patients: users.patients,
    users: users.therapists + users.patients,
    clinicianGoals: goals.goals,
    clinicianGoalsFromCarePlans: goals.fromCarePlan,
    sessionsByShape: planned.sessionsByShape,
    itemsByKind: planned.itemsByKind,
    expectedBackfill: expectedBackfillOf(planned),
    durationMs: elapsedMs(),
  };
  logger.info('seed.loaded', {
    users: stats.users,
    therapists: stats.therapists,
    patients: stats.patients,
    sessions: stats.sessions,
    clinicianGoals: stats.clinicianGoals,
    clinicianGoalsFromCarePlans: stats.clinicianGoalsFromCarePlans,
    sessionsByShape: stats.sessionsByShape,
    durationMs: stats.durationMs,
  });
  return stats;
}

import { runBackfill } from '../backfill/run';
import type { BackfillResult } from '../backfill/store';
import { sqlRunner } from '../db/sql-runner';
import type { BackfillOptions } from '../options';
import {
  countPlannedShapes,
  type InsertedClinicianGoals,
  inGeneratorTransaction,
  insertClinicianGoals,
  insertSeedSessions,
  insertSeedUsers,
} from './inserts';
import {
  type ExpectedBackfill,
  expectedBackfillOf,
  type ItemKindName,
  occurring,
  type PlannedShapes,
  planPopulation,
  type SessionShapeName,
} from './mix';
import { buildSeedPools } from './pools';
import { assertOnlySeededRows, resetSeededTables } from './reset';
import { resolveSeedOptions, SESSIONS_PER_CHUNK, type SeedDatabaseOptions } from './settings';
import type { GeneratorInput, PatientRange } from './sql';

/**
 * The seeding, top-down: {@link seedDatabase} refuses foreign rows, deletes the seeds' own,
 * words the pools (pools.ts) and runs the generating statements (inserts.ts), several at a
 * time over ranges of patients; {@link seedAndBackfill} then runs the shared backfill on the
 * result. The stages: settings.ts (what is asked), mix.ts (what the data holds and what the
 * backfill must count on it), wording.ts and pools.ts (the words), sql.ts and inserts.ts (the
 * statements), reset.ts (what the seeds refuse and delete).
 */

/** What {@link seedDatabase} generated. */
export interface SeedStats {
  seed: number;
  /** Sessions inserted; equals the sessions asked for. */
  sessions: number;
  therapists: number;
  patients: number;
  /** Therapists and patients. */
  users: number;
  /** Demo goals worded as clinicians enter them by hand; stored with origin 'seed'. */
  clinicianGoals: number;
  /** Of those, goals worded as a task of the patient's care plan, which the backfill meets again. */
  clinicianGoalsFromCarePlans: number;
  sessionsByShape: Record<SessionShapeName, number>;
  itemsByKind: Record<ItemKindName, number>;
  expectedBackfill: ExpectedBackfill;
  /** Wall time of the whole load, reset included. */
  durationMs: number;
}

/**
 * Fills the database with a deterministic therapy practice: therapists, patients, a year of
 * sessions whose `extracted_notes` take every shape the backfill meets (see mix.ts), and a
 * few demo goals worded as clinicians enter them (origin 'seed'). It refuses a database
 * holding rows the seeds did not create, and deletes the seeded tables' rows first, so running
 * it again gives the same rows, ids included.
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
  const db = sqlRunner(knex);
  // Refused before anything is logged, so that a refusal is one line.
  await assertOnlySeededRows(db);
  logger.info('seed.start', { sessions, seed, concurrency, ...population });

  await resetSeededTables(db);
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

/** Options of {@link seedAndBackfill}. */
export interface SeedAndBackfillOptions extends SeedDatabaseOptions {
  /** Settings of the backfill that follows; its knex, logger and `invokedBy: 'seed'` are set here. */
  backfill?: Omit<BackfillOptions, 'knex' | 'logger' | 'invokedBy'>;
}

/** What {@link seedAndBackfill} did. */
export interface SeedAndBackfillResult {
  seeding: SeedStats;
  backfill: BackfillResult;
}

/**
 * Seeds the database (see {@link seedDatabase}), then runs the shared backfill on it, as the
 * migration would in production, and logs the backfill's counts. Returns both results; check
 * `backfill.errors`.
 */
export async function seedAndBackfill(
  options: SeedAndBackfillOptions,
): Promise<SeedAndBackfillResult> {
  const { knex, logger } = options;
  const seeding = await seedDatabase(options);
  const backfill = await runBackfill({ ...options.backfill, knex, logger, invokedBy: 'seed' });
  logger.info('seed.backfill_summary', {
    runId: backfill.runId,
    sessionsProcessed: backfill.sessionsProcessed,
    sessionsWithActionItems: backfill.sessionsWithActionItems,
    sessionsSkippedByReason: occurring(backfill.sessionsSkippedByReason),
    itemsSeen: backfill.itemsSeen,
    goalsCreated: backfill.goalsCreated,
    duplicatesSkipped: backfill.duplicatesSkipped,
    invalidSkipped: backfill.invalidSkipped,
    invalidByReason: occurring(backfill.invalidByReason),
    errors: backfill.errors,
    elapsedMs: backfill.elapsedMs,
  });
  logger.info('seed.finish', {
    sessions: seeding.sessions,
    goalsCreated: backfill.goalsCreated,
    loadMs: seeding.durationMs,
    backfillMs: backfill.elapsedMs,
  });
  return { seeding, backfill };
}

/**
 * Splits patients 1…`patients` into consecutive ranges holding about `sessionsPerChunk`
 * sessions each (patients have about the same number of sessions on average). Each range is
 * inserted by one statement; the ranges only decide which statement writes a row, never its
 * contents.
 */
export function patientChunks(
  patients: number,
  sessions: number,
  sessionsPerChunk: number = SESSIONS_PER_CHUNK,
): PatientRange[] {
  const chunks = Math.max(1, Math.min(patients, Math.ceil(sessions / sessionsPerChunk)));
  const size = Math.ceil(patients / chunks);
  const ranges: PatientRange[] = [];
  for (let first = 1; first <= patients; first += size) {
    ranges.push({ first, last: Math.min(patients, first + size - 1) });
  }
  return ranges;
}

/**
 * Runs `task` for every item, at most `limit` at a time, and returns the results in the order
 * of `items`. After a task fails, no new task starts; the first error is thrown once the
 * running ones have settled, so no work is left behind on a connection.
 */
export async function runConcurrently<Item, Result>(
  items: readonly Item[],
  limit: number,
  task: (item: Item) => Promise<Result>,
): Promise<Result[]> {
  const results: Result[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await task(items[index] as Item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}

import type { Knex } from 'knex';
import type { RunRecord } from './backfill/store';
import { runStore } from './backfill/store';
import { findLockHolderPid } from './db/advisory-lock';
import { inSchema } from './db/schema-scope';
import { type SqlRunner, sqlRunner } from './db/sql-runner';
import { type GoalCensus, takeGoalCensus } from './goals';
import { CHAIN_MIGRATIONS_TABLE, KNEX_MIGRATIONS_TABLE } from './names';
import { checkedOptionsOf, type NumericOptions } from './options';
import { assertSchemaReady } from './schema/app-tables';

/** Options of {@link getBackfillStatus}. */
export interface StatusOptions extends NumericOptions<'getBackfillStatus'> {
  knex: Knex;
  /**
   * The Knex migrations table whose `_lock` table is checked, found by the search_path, or
   * qualified with its schema (`public.knex_migrations`) when the app keeps it elsewhere.
   * @default both this chain's `goal_backfill_migrations` and Knex's default `knex_migrations`
   */
  migrationsTableName?: string;
  /**
   * The schema of treatment_goals and this package's tables; names resolve in it alone, as in
   * `runBackfill`. @default undefined (the connection's search_path)
   */
  schema?: string;
}

/** Where the backfill stands. */
export interface BackfillStatus {
  /** The newest runs first. Dry runs write nothing, so they never appear. */
  recentRuns: RunRecord[];
  goals: GoalCensus;
  /** The session holding the backfill lock now, if any. */
  lockHolder: { pid: number; applicationName: string | null } | null;
  /** A run that stopped early and will be resumed by the next run, or null. */
  resumableRun: RunRecord | null;
  /**
   * Knex's migration lock is set while no backfill runs: a migration was killed mid-way. Knex
   * refuses to migrate until `npx knex migrate:unlock`; the next `migrate:latest` then resumes.
   */
  knexMigrationLockStuck: boolean;
}

async function isKnexMigrationLocked(db: SqlRunner, migrationsTableName: string): Promise<boolean> {
  const lockTable = `${migrationsTableName}_lock`;
  const [exists] = await db.rows<{ present: boolean }>(
    'SELECT to_regclass(?) IS NOT NULL AS present',
    [lockTable],
  );
  if (!exists?.present) return false;
  const rows = await db.rows<{ is_locked: number }>(
    'SELECT is_locked FROM ?? WHERE is_locked = 1',
    [lockTable],
  );
  return rows.length > 0;
}

/**
 * The run that the next real run would resume: unfinished, with a checkpoint, and not held by
 * a live backfill. Cheaper than {@link getBackfillStatus}, which also counts the goals.
 */
export async function findResumableRun(knex: Knex, schema?: string): Promise<RunRecord | null> {
  checkedOptionsOf('getBackfillStatus', { schema });
  return inSchema(knex, schema ?? null, resumableRunOn);
}

async function resumableRunOn(knex: Knex): Promise<RunRecord | null> {
  const db = sqlRunner(knex);
  await assertSchemaReady(db);
  const [lockHolder, unfinished] = await Promise.all([
    findLockHolderPid(db),
    runStore.findResumable(db),
  ]);
  return resumable(lockHolder, unfinished);
}

/**
 * An unfinished run can be resumed when it has a checkpoint or a pass (see startOrResume) and
 * no live backfill holds the lock.
 */
function resumable(lockHolder: unknown, unfinished: RunRecord | null): RunRecord | null {
  const resumePoint = unfinished?.checkpoint ?? unfinished?.pass;
  return lockHolder === null && resumePoint ? unfinished : null;
}

/** Reads the run history, the goal counts and the lock, without taking the lock. */
export async function getBackfillStatus(options: StatusOptions): Promise<BackfillStatus> {
  const { limit } = checkedOptionsOf('getBackfillStatus', options);
  return inSchema(options.knex, options.schema ?? null, (knex) =>
    statusOn({ ...options, knex }, limit),
  );
}

async function statusOn(options: StatusOptions, limit: number): Promise<BackfillStatus> {
  const db = sqlRunner(options.knex);
  await assertSchemaReady(db);
  const [recentRuns, goals, lockHolder, unfinished, knexLocked] = await Promise.all([
    runStore.recent(db, limit),
    takeGoalCensus(db),
    findLockHolderPid(db),
    runStore.findResumable(db),
    Promise.all(
      (options.migrationsTableName
        ? [options.migrationsTableName]
        : [CHAIN_MIGRATIONS_TABLE, KNEX_MIGRATIONS_TABLE]
      ).map((table) => isKnexMigrationLocked(db, table)),
    ).then((locks) => locks.some(Boolean)),
  ]);
  const resumableRun = resumable(lockHolder, unfinished);
  return {
    recentRuns,
    goals,
    lockHolder,
    resumableRun,
    knexMigrationLockStuck: knexLocked && lockHolder === null,
  };
}

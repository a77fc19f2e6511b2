import type { Knex } from 'knex';
import { silentLogger } from '../src/logging';
import { seedDatabase } from '../src/seed';

/**
 * How the sessions lie in the heap.
 * - `created-at`: in the order an app writes them, by `created_at`, patients interleaved;
 * - `patient`: patient by patient, as the seed generator inserts them (the best case for the
 *   backfill's reading order).
 */
export const SESSION_LAYOUTS = ['created-at', 'patient'] as const;
export type SessionLayout = (typeof SESSION_LAYOUTS)[number];

/** How closely the heap follows each column: `pg_stats.correlation`, from -1 to 1. */
export interface LayoutCorrelations {
  patientId: number;
  createdAt: number;
}

/**
 * Lays the seeded sessions out as `layout` says. For `created-at` it rewrites the heap in
 * `(created_at, id)` order with CLUSTER on a throwaway index, which leaves the same rows, ids
 * included, where an app inserting them as they happen would have put them.
 */
export async function applySessionLayout(knex: Knex, layout: SessionLayout): Promise<void> {
  if (layout === 'created-at') {
    await knex.raw(
      'CREATE INDEX bench_sessions_created_at_idx ON therapy_sessions (created_at, id)',
    );
    await knex.raw('CLUSTER therapy_sessions USING bench_sessions_created_at_idx');
    await knex.raw('DROP INDEX bench_sessions_created_at_idx');
  }
  await knex.raw('VACUUM ANALYZE therapy_sessions');
}

/**
 * Fills a migrated database with `sessions` sessions from the seed generator, lays them out as
 * `layout` says and refreshes the planner's statistics: the data set every benchmark measures.
 * Returns what the seed wrote.
 */
export async function seedLaidOut(knex: Knex, sessions: number, layout: SessionLayout) {
  const seeded = await seedDatabase({ knex, logger: silentLogger, sessions });
  await applySessionLayout(knex, layout);
  await knex.raw('VACUUM ANALYZE');
  return seeded;
}

/** The heap correlation of `patient_id` and `created_at`, as the planner sees it. */
export async function layoutCorrelations(knex: Knex): Promise<LayoutCorrelations> {
  const result = await knex.raw(
    `SELECT attname, correlation FROM pg_stats
      WHERE schemaname = current_schema() AND tablename = 'therapy_sessions'
        AND attname IN ('patient_id', 'created_at')`,
  );
  const of = (name: string) =>
    Number(
      (result.rows as { attname: string; correlation: number }[]).find((r) => r.attname === name)
        ?.correlation ?? Number.NaN,
    );
  return { patientId: of('patient_id'), createdAt: of('created_at') };
}

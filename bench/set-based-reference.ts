import type { Knex } from 'knex';
import { buildGoalStatement, readDateKinds } from '../src/backfill/statement';
import { sqlRunner } from '../src/db/sql-runner';

/**
 * (b) The physical limit: the same rules as one INSERT … SELECT over every session, which
 * PostgreSQL runs by itself. It is generated from the same builder as the backfill's pages,
 * in its leanest form (no counts), so the rules are one definition.
 */
export async function runSetBasedReference(
  knex: Knex,
): Promise<{ goalsCreated: number; elapsedMs: number }> {
  const { createdAt } = await readDateKinds(sqlRunner(knex));
  const { sql, bindings } = buildGoalStatement(
    { kind: 'all' },
    { kind: 'write', runId: null, createdAt },
    { insertedOnly: true },
  );
  const startedAt = performance.now();
  const result = await knex.raw(sql, bindings as Knex.RawBinding[]);
  return {
    goalsCreated: Number(result.rows[0].goals_created),
    elapsedMs: performance.now() - startedAt,
  };
}

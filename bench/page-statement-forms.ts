/**
 * npm run --silent build && node -r sucrase/register/ts bench/page-statement-forms.ts
 *   [--sessions N] [--rounds R] [--explain]
 *
 * Where a page statement's time goes: generates N sessions (default 200,000) with the seed
 * generator into a scratch database, lays them out by created_at as `npm run bench` does, and
 * times one page of 5000 sessions at three places of the reading order in three forms: the
 * statement a run writes with (counts, last key), its lean form (no counts, as (b′) runs over
 * every session) and the dry run's counting form. Each page is run in a savepoint rolled back
 * after, with the backfilled goals deleted first in a transaction that is rolled back too, so
 * every round inserts the same goals. Prints the median wall time of each form, and with
 * `--explain` the plan of each form's first page, node by node.
 */
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { buildGoalStatement } from '../src/backfill/statement';
import { sqlRunner } from '../src/db/sql-runner';
import { BACKFILL_ORIGIN, GOAL_PROVENANCE, TABLES } from '../src/names';
import { readGoalTableMapping } from '../src/schema/goal-table';
import { MIGRATIONS_DIRECTORY } from './paths';
import { createScratchDatabase } from './scratch-database';
import { seedLaidOut } from './session-layout';
import { median } from './statistics';

const FORMS = ['run', 'lean', 'count'] as const;
type Form = (typeof FORMS)[number];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'CTE Name'?: string;
  'Actual Total Time': number;
  'Actual Loops': number;
  'Actual Rows': number;
  Plans?: PlanNode[];
}

function printPlan(node: PlanNode, depth = 0): void {
  const name = node['CTE Name'] ?? node['Relation Name'] ?? '';
  const ms = node['Actual Total Time'] * node['Actual Loops'];
  console.log(
    `${'  '.repeat(depth)}${node['Node Type']} ${name} ${ms.toFixed(1)} ms, ${node['Actual Rows'] * node['Actual Loops']} rows`,
  );
  for (const child of node.Plans ?? []) printPlan(child, depth + 1);
}

async function timePages(knex: Knex, rounds: number, explain: boolean) {
  const table = await readGoalTableMapping(sqlRunner(knex));
  const [{ n } = { n: 0 }] = (await knex.raw(`SELECT count(*)::int AS n FROM ${TABLES.sessions}`))
    .rows;
  const offsets = [0.1, 0.5, 0.8].map((share) => Math.floor(n * share));
  const times: Record<Form, number[]> = { run: [], lean: [], count: [] };
  await knex
    .transaction(async (trx) => {
      await trx.raw(`DELETE FROM ${TABLES.goals} WHERE ${GOAL_PROVENANCE.origin} = ?`, [
        BACKFILL_ORIGIN,
      ]);
      for (let round = 0; round < rounds; round += 1) {
        for (const offset of offsets) {
          const [key] = (
            await trx.raw(
              `SELECT s.patient_id, to_char(s.session_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS d, s.id
                 FROM ${TABLES.sessions} s ORDER BY s.patient_id, s.session_date, s.id OFFSET ? LIMIT 1`,
              [offset],
            )
          ).rows;
          const cursor = { patientId: key.patient_id, sessionDate: key.d, sessionId: key.id };
          for (const form of FORMS) {
            const { sql, bindings } = buildGoalStatement(
              {
                kind: 'page',
                cursor,
                limit: 5000,
                window: { number: 0, captured: true },
                lane: null,
                sessionDate: 'instant',
              },
              form === 'count'
                ? { kind: 'count' }
                : { kind: 'write', runId: null, createdAt: 'copy' },
              { table, insertedOnly: form === 'lean' },
            );
            await trx.raw('SAVEPOINT page');
            if (explain && round === 0 && offset === offsets[0]) {
              const plan = await trx.raw(
                `EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`,
                bindings as never,
              );
              console.log(`--- ${form}`);
              printPlan(plan.rows[0]['QUERY PLAN'][0].Plan);
            } else {
              const startedAt = performance.now();
              await trx.raw(sql, bindings as never);
              times[form].push(performance.now() - startedAt);
            }
            await trx.raw('ROLLBACK TO SAVEPOINT page');
          }
        }
      }
      throw new Error('rolled back');
    })
    .catch((err: unknown) => {
      if (!(err instanceof Error && err.message === 'rolled back')) throw err;
    });
  return times;
}

async function main() {
  // The chain's data migration runs on the empty table: only its warnings are of interest here.
  process.env.GOAL_BACKFILL_LOG_LEVEL ??= 'warn';
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '200000' },
      rounds: { type: 'string', default: '5' },
      explain: { type: 'boolean', default: false },
      server: {
        type: 'string',
        default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      },
    },
  });
  const database = await createScratchDatabase(values.server, `goal_backfill_pages_${process.pid}`);
  try {
    const { knex } = database;
    await knex.migrate.latest({ directory: MIGRATIONS_DIRECTORY, loadExtensions: ['.ts'] });
    await seedLaidOut(knex, Number(values.sessions), 'created-at');
    const times = await timePages(knex, Number(values.rounds), values.explain);
    for (const form of FORMS) {
      console.log(
        `${form.padEnd(6)} ${median(times[form]).toFixed(1)} ms a page (${times[form].length} pages)`,
      );
    }
    console.log(`run / lean: ${(median(times.run) / median(times.lean)).toFixed(2)}`);
  } finally {
    await database.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});

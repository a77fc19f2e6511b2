/**
 * node -r sucrase/register/ts bench/reading-order.ts [--sessions N] [--rounds R]
 *
 * Whether reading sessions in the order the disk holds them would make a run cheaper (issue
 * 21's idea): generates N sessions (default 1,000,000) with the seed generator into a scratch
 * database, lays them out by created_at as `npm run bench` does, and times, R rounds in turn
 * (default 2), each after the backfilled goals are reset and a CHECKPOINT:
 * - `key`: every page of pass 0 in the run's reading order, (patient_id, session_date, id),
 *   with the run's own page statement (counts and last key), each page its own transaction;
 * - `blocks`: the same statement over block ranges of the heap (`ctid` ranges, a TID range
 *   scan) of about the same number of sessions a page, in block order;
 * - `blocks_lean`: the same block ranges with the statement's lean form (no counts);
 * - (b): the cheapest single statement, as `npm run bench` runs it.
 * Prints each one's median time, its ratio to (b), and whether its goals are those of (b).
 * Block order keeps the earliest occurrence here only because the seed writes every patient's
 * sessions in date order; it is a measurement, not a reading order the backfill could use as is
 * (docs/performance.md, "Reading in the order the disk holds them").
 */
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import type { SessionKey } from '../src/backfill/reading';
import { buildGoalStatement, type StatementCountsRow } from '../src/backfill/statement';
import { sqlRunner } from '../src/db/sql-runner';
import { TABLES } from '../src/names';
import { SESSION_CHANGES } from '../src/schema/change-tracking';
import { readGoalTableMapping } from '../src/schema/goal-table';
import { runCheapestStatement } from './cheapest-statement';
import { goalDigest, keepClinicianGoals, resetGoals } from './goal-snapshot';
import { MIGRATIONS_DIRECTORY } from './paths';
import { createScratchDatabase } from './scratch-database';
import { seedLaidOut } from './session-layout';
import { median, seconds } from './statistics';

const PAGE_SESSIONS = 5000;
const RUN_ID = '00000000-0000-4000-8000-000000000021';

type Contestant = (knex: Knex) => Promise<void>;

async function pageStatement(knex: Knex, sql: string, bindings: unknown[]) {
  return knex.transaction(
    async (trx) => (await trx.raw(sql, bindings as never)).rows[0] as StatementCountsRow,
  );
}

function contestants(pagesOfBlocks: number, blocksPerPage: number): Record<string, Contestant> {
  const mode = { kind: 'write', runId: RUN_ID, createdAt: 'copy' } as const;
  const byBlocks = (insertedOnly: boolean) => async (knex: Knex) => {
    const table = await readGoalTableMapping(sqlRunner(knex));
    const { sql, bindings } = buildGoalStatement({ kind: 'all' }, mode, { table, insertedOnly });
    const from = `FROM ${TABLES.sessions} s`;
    for (let page = 0; page < pagesOfBlocks; page += 1) {
      const start = page * blocksPerPage;
      const ranged = sql.replace(
        from,
        `${from} WHERE s.ctid >= '(${start},0)'::tid AND s.ctid < '(${start + blocksPerPage},0)'::tid
           AND NOT EXISTS (SELECT 1 FROM ${SESSION_CHANGES.table} c WHERE c.session_id = s.id)`,
      );
      await pageStatement(knex, ranged, bindings);
    }
  };
  return {
    key: async (knex) => {
      const table = await readGoalTableMapping(sqlRunner(knex));
      let cursor: SessionKey | null = null;
      for (;;) {
        const { sql, bindings } = buildGoalStatement(
          {
            kind: 'page',
            cursor,
            limit: PAGE_SESSIONS,
            window: { number: 0, captured: true },
            lane: null,
            sessionDate: 'instant',
          },
          mode,
          { table },
        );
        const row = await pageStatement(knex, sql, bindings);
        if (row.sessions < PAGE_SESSIONS) return;
        cursor = {
          patientId: row.cursor_patient_id as string,
          sessionDate: row.cursor_session_date as string,
          sessionId: row.cursor_session_id as string,
        };
      }
    },
    blocks: byBlocks(false),
    blocks_lean: byBlocks(true),
    '(b)': async (knex) => {
      await runCheapestStatement(knex);
    },
  };
}

async function main() {
  process.env.GOAL_BACKFILL_LOG_LEVEL ??= 'warn';
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '1000000' },
      rounds: { type: 'string', default: '2' },
      server: {
        type: 'string',
        default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      },
    },
  });
  const database = await createScratchDatabase(values.server, `goal_backfill_order_${process.pid}`);
  try {
    const { knex } = database;
    await knex.migrate.latest({ directory: MIGRATIONS_DIRECTORY, loadExtensions: ['.ts'] });
    await seedLaidOut(knex, Number(values.sessions), 'created-at');
    await keepClinicianGoals(knex);
    const [sizes] = (
      await knex.raw(
        `SELECT relpages::int AS blocks, (SELECT count(*)::int FROM ${TABLES.sessions}) AS sessions
           FROM pg_class WHERE oid = to_regclass(?)`,
        [TABLES.sessions],
      )
    ).rows as { blocks: number; sessions: number }[];
    if (!sizes) throw new Error('no therapy_sessions');
    const blocksPerPage = Math.ceil((sizes.blocks * PAGE_SESSIONS) / sizes.sessions);
    const all = contestants(Math.ceil((sizes.blocks + 1) / blocksPerPage), blocksPerPage);
    const names = Object.keys(all);
    const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
    const digests: Record<string, string> = {};
    for (let round = 0; round < Number(values.rounds); round += 1) {
      // Rotated, so no contestant always runs on the cache another one left.
      const order = names.map((_, i) => names[(i + round) % names.length] as string);
      const line: string[] = [];
      for (const name of order) {
        await resetGoals(knex);
        await knex.raw('CHECKPOINT');
        const startedAt = performance.now();
        await (all[name] as Contestant)(knex);
        const ms = performance.now() - startedAt;
        times[name]?.push(ms);
        digests[name] = await goalDigest(knex);
        line.push(`${name} ${seconds(ms)} s`);
      }
      console.log(`  round ${round + 1}: ${line.join(', ')}`);
    }
    const b = median(times['(b)'] ?? []);
    console.log(
      `${sizes.sessions} sessions in ${sizes.blocks} blocks, ${blocksPerPage} blocks a page; medians:`,
    );
    for (const name of names) {
      const ms = median(times[name] ?? []);
      const same = digests[name] === digests['(b)'] ? 'same goals as (b)' : 'OTHER GOALS than (b)';
      console.log(
        `${name.padEnd(12)} ${seconds(ms).padStart(8)} s  ${(ms / b).toFixed(2)} × (b)  ${same}`,
      );
    }
  } finally {
    await database.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});

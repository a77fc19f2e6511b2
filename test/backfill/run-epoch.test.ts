import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import type { BackfillResult } from '../../src/backfill/store';
import { silentLogger } from '../../src/logging';
import { expectCountsToEqualModel, expectGoalsToEqualModel } from '../support/backfill-assertions';
import {
  countRows,
  type InsertedSession,
  insertSessions,
  insertUsers,
  type SessionSpec,
} from '../support/fixtures';
import { modelBackfill } from '../support/reference-model';
import { knexFor, onPglite } from '../support/test-database';
import {
  canMakeClusters,
  createThrowawayCluster,
  type ThrowawayCluster,
} from '../support/throwaway-cluster';

/**
 * A database past its first transaction-ID epoch, as a busy app's becomes within a year or
 * two. Freezing keeps a row's raw 32-bit xmin, so once the cluster's transaction IDs wrap, an
 * old frozen session carries the same number as a transaction handed out during the run. The
 * cluster is made here (initdb in a temporary folder), its sessions frozen, then `pg_resetwal`
 * moves it to epoch 1 with the next transaction IDs just below the sessions' raw xmin, so the
 * run's own transactions (and a sweep of `txid_current()` beside it) pass over them while the
 * first pass reads. The goals must still be exactly those of an independent SQL statement and
 * of the reference model.
 *
 * Each case has its own database, its sessions written in a burst at its own range of
 * transaction IDs, 5,000 apart; before a case, IDs are advanced to just below its range.
 */
const CASES = ['one worker', 'three workers', 'stopped and resumed', 'dry run'] as const;
type Case = (typeof CASES)[number];
const GAP = 5000;
const PATIENTS = 12;
const SESSIONS = 600;
const TASKS = [
  'Walk daily',
  'Sleep log',
  'Journal',
  'Breathing',
  'Read',
  'Stretch',
  'Call a friend',
];

interface Prepared {
  knex: Knex;
  sessions: InsertedSession[];
  /** The lowest and highest raw xmin of the case's sessions. */
  xmin: { low: number; high: number };
}

let cluster: ThrowawayCluster;
const prepared = new Map<Case, Prepared>();

/** Hands out `count` transaction IDs, one committed transaction each. */
async function burnXids(knex: Knex, count: number): Promise<void> {
  if (count <= 0) return;
  await knex.raw(
    `DO $$ BEGIN FOR i IN 1..${count} LOOP PERFORM txid_current(); COMMIT; END LOOP; END $$`,
  );
}

/** The raw 32-bit part of the next transaction ID. */
async function nextXid(knex: Knex): Promise<number> {
  const { rows } = await knex.raw(
    'SELECT txid_current() % 4294967296 AS xid, txid_current() / 4294967296 AS epoch',
  );
  return Number(rows[0].xid) + 1;
}

async function prepareCase(name: Case, index: number): Promise<void> {
  const admin = knexFor(cluster.url(), 1);
  const database = `epoch_${index}`;
  await admin.raw(`CREATE DATABASE ${database}`);
  await admin.destroy();
  const knex = knexFor(cluster.url(database));
  await knex.migrate.latest();
  const patients = (await insertUsers(knex, PATIENTS, 'patient')).sort();
  await burnXids(knex, GAP - 50);
  // The sessions in a burst of 20 transactions: their raw xmin spans about 20 IDs. Each patient
  // repeats tasks across many sessions, so which session a goal comes from tells whether the
  // earliest one was read first.
  const sessions: InsertedSession[] = [];
  for (let burst = 0; burst < 20; burst += 1) {
    sessions.push(
      ...(await insertSessions(
        knex,
        Array.from({ length: SESSIONS / 20 }, (_, j): SessionSpec => {
          const i = burst * (SESSIONS / 20) + j;
          return {
            patientId: patients[(i * 7) % PATIENTS] ?? '',
            sessionDate: new Date(Date.UTC(2023, 0, 1 + ((i * 37) % 700), 9, i % 60)).toISOString(),
            notes: {
              action_items: [
                { task: TASKS[i % TASKS.length] ?? '', details: `From ${i}` },
                { task: `Plan ${i % 23}` },
              ],
            },
          };
        }),
      )),
    );
  }
  const { rows } = await knex.raw(
    `SELECT min(CAST(CAST(xmin AS text) AS bigint)) AS low,
            max(CAST(CAST(xmin AS text) AS bigint)) AS high FROM therapy_sessions`,
  );
  prepared.set(name, {
    knex,
    sessions,
    xmin: { low: Number(rows[0].low), high: Number(rows[0].high) },
  });
}

/** What an independent SQL statement says the goals are: the earliest item of each pair. */
async function oracleGoals(knex: Knex) {
  const { rows } = await knex.raw(
    `SELECT DISTINCT ON (s.patient_id, btrim(e.item ->> 'task'))
            s.patient_id, btrim(e.item ->> 'task') AS description, s.id AS session_id
       FROM therapy_sessions s,
            jsonb_array_elements(s.extracted_notes -> 'action_items') WITH ORDINALITY AS e(item, n)
      WHERE jsonb_typeof(e.item -> 'task') = 'string' AND btrim(e.item ->> 'task') <> ''
      ORDER BY s.patient_id, btrim(e.item ->> 'task'), s.session_date, s.id, e.n`,
  );
  return (rows as { patient_id: string; description: string; session_id: string }[])
    .map((row) => `${row.patient_id} ${row.description} ${row.session_id}`)
    .sort();
}

async function actualGoals(knex: Knex) {
  const rows = await knex('treatment_goals').select('patient_id', 'description', 'session_id');
  return rows.map((row) => `${row.patient_id} ${row.description} ${row.session_id}`).sort();
}

/**
 * Runs the case's backfill while transaction IDs sweep past its sessions' raw xmin: a sweep
 * of `txid_current()` starts after the first page, beside the run's own transactions. Returns
 * the result and the pages read after the sweep had passed the sessions' highest xmin, which
 * must be some, or the case proved nothing.
 */
async function runWhileXidsSweep(
  name: Case,
  options: { workers?: number; dryRun?: boolean; stopAfter?: number } = {},
): Promise<{ result: BackfillResult; pagesAfterSweep: number }> {
  const { knex, xmin } = prepared.get(name) as Prepared;
  const sweeper = knexFor(cluster.url(`epoch_${CASES.indexOf(name)}`), 1);
  let sweep: Promise<void> | null = null;
  let swept = false;
  let pagesAfterSweep = 0;
  const controller = new AbortController();
  try {
    const run = (stopAfter: number | undefined) =>
      runBackfill({
        knex,
        logger: silentLogger,
        batchSize: 10,
        pauseMs: 25,
        workers: options.workers ?? 1,
        dryRun: options.dryRun ?? false,
        signal: stopAfter === undefined ? undefined : controller.signal,
        onProgress: (progress) => {
          if (swept) pagesAfterSweep += 1;
          sweep ??= burnXids(sweeper, xmin.high - xmin.low + 200).then(() => {
            swept = true;
          });
          if (stopAfter !== undefined && progress.sessionsProcessed >= stopAfter)
            controller.abort();
        },
      });
    let result = await run(options.stopAfter);
    if (options.stopAfter !== undefined) {
      expect(result.outcome).toBe('interrupted');
      await sweep;
      result = await run(undefined);
      expect(result.resumed).toBe(true);
    }
    await sweep;
    return { result, pagesAfterSweep };
  } finally {
    await sweeper.destroy();
  }
}

// The cluster's binaries are TEST_PG_BIN_DIR's (the machine's PostgreSQL 15 by default); a
// folder without pg_resetwal, as the matrix's server packages are, cannot move a cluster's epoch.
describe.skipIf(onPglite || !canMakeClusters(['pg_resetwal', 'vacuumdb']))(
  'a database past its first transaction-ID epoch, with frozen sessions',
  () => {
    const freezeEveryDatabase = () =>
      cluster.tool('vacuumdb', [
        '--all',
        '--freeze',
        '--quiet',
        '-h',
        '127.0.0.1',
        '-p',
        new URL(cluster.url()).port,
      ]);

    beforeAll(async () => {
      // No autovacuum: the test alone decides when rows are frozen.
      cluster = await createThrowawayCluster({ settings: { autovacuum: 'off' } });
      for (const [index, name] of CASES.entries()) await prepareCase(name, index);
      for (const { knex } of prepared.values()) await knex.destroy();
      await freezeEveryDatabase();
      await cluster.stop();
      const first = prepared.get(CASES[0]) as Prepared;
      await cluster.tool('pg_resetwal', [
        '-e',
        '1',
        '-x',
        String(first.xmin.low - 30),
        '-D',
        cluster.dataDir,
      ]);
      await cluster.start();
      await freezeEveryDatabase();
      for (const [index, name] of CASES.entries()) {
        const entry = prepared.get(name) as Prepared;
        entry.knex = knexFor(cluster.url(`epoch_${index}`));
      }
    }, 240_000);

    afterAll(async () => {
      for (const { knex } of prepared.values()) await knex.destroy();
      await cluster?.destroy();
    });

    /** Advances transaction IDs to just below the case's sessions, in epoch 1. */
    async function reachCase(name: Case): Promise<Prepared> {
      const entry = prepared.get(name) as Prepared;
      const { rows } = await entry.knex.raw('SELECT txid_current() / 4294967296 AS epoch');
      expect(Number(rows[0].epoch)).toBe(1);
      await burnXids(entry.knex, entry.xmin.low - 30 - (await nextXid(entry.knex)));
      expect(await nextXid(entry.knex)).toBeLessThan(entry.xmin.low);
      return entry;
    }

    it.each([
      ['one worker', { workers: 1 }],
      ['three workers', { workers: 3 }],
      ['stopped and resumed', { stopAfter: SESSIONS / 3 }],
    ] as const)('%s: the goals are exactly the oracle’s and the model’s', async (name, options) => {
      const { knex, sessions } = await reachCase(name);
      const model = modelBackfill(sessions);
      const { result, pagesAfterSweep } = await runWhileXidsSweep(name, options);
      expectCountsToEqualModel(result, model.counts);
      expect(result.outcome).toBe('completed');
      expect(pagesAfterSweep).toBeGreaterThan(0);
      expect(await actualGoals(knex)).toEqual(await oracleGoals(knex));
      await expectGoalsToEqualModel(knex, model.goals);
    });

    it('dry run: the counts are exactly the model’s, and nothing is written', async () => {
      const { knex, sessions } = await reachCase('dry run');
      const model = modelBackfill(sessions);
      const { result, pagesAfterSweep } = await runWhileXidsSweep('dry run', { dryRun: true });
      expectCountsToEqualModel(result, model.counts);
      expect(result.outcome).toBe('completed');
      expect(pagesAfterSweep).toBeGreaterThan(0);
      expect(await countRows(knex, 'treatment_goals')).toBe(0);
    });
  },
);

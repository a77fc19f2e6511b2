/**
 * npm run bench -- [--sessions N] [--repeats R] [--layout created-at|patient]
 *                  [--original-sample K] [--batch-size B] [--workers 2,3,4]
 *                  [--adopted]
 *
 * Generates N realistic sessions (the seed generator) into a scratch database, laid out as an
 * app writes them (by created_at, patients interleaved) unless `--layout patient`, then times,
 * on the same data and in the same run, rotating which goes first:
 *   (a)  the backfill through the built CLI, as an operator runs it, and its dry run;
 *   (aN) the same with `--workers N`, for each N of `--workers` (default 2), when the CLI has
 *        the option;
 *   (b)  the cheapest single statement found that writes the same goals (see
 *        cheapest-statement.ts);
 *   (b′) the lean form of the backfill's own page statement over every session;
 *   (c)  the original design, on a sample;
 *   (aA) with `--adopted`, the backfill through the CLI into a treatment_goals the app made
 *        (adopted-database.ts), in a second database seeded the same.
 * Checks that all of them wrote identical goals, prints each one's time and ratio to (b) and
 * every target with MET or MISSED, and writes the figures as JSON under bench-results/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAdoptedDatabase } from './adopted-database';
import { runCheapestStatement } from './cheapest-statement';
import {
  countDifferences,
  goalDigest,
  keepClinicianGoals,
  resetGoals,
  snapshotGoals,
} from './goal-snapshot';
import { cliHasWorkersOption, runOperatorCli } from './operator-cli-run';
import { runOriginalDesign } from './original-design';
import { MIGRATIONS_DIRECTORY } from './paths';
import { createScratchDatabase } from './scratch-database';
import {
  layoutCorrelations,
  SESSION_LAYOUTS,
  type SessionLayout,
  seedLaidOut,
} from './session-layout';
import { runSetBasedReference } from './set-based-reference';
import { count, median, seconds } from './statistics';

const RESULTS_DIRECTORY = path.join(__dirname, '..', 'bench-results');

function parseOptions() {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '200000' },
      repeats: { type: 'string', default: '5' },
      layout: { type: 'string', default: 'created-at' },
      'original-sample': { type: 'string', default: '2000' },
      'batch-size': { type: 'string' },
      adopted: { type: 'boolean', default: false },
      workers: { type: 'string', default: '2' },
      server: {
        type: 'string',
        default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      },
    },
    strict: true,
  });
  const whole = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} must be a whole number of at least ${min} (got ${raw})`);
    return n;
  };
  const layout = values.layout as SessionLayout;
  if (!SESSION_LAYOUTS.includes(layout))
    throw new Error(`--layout must be one of ${SESSION_LAYOUTS.join(', ')} (got ${values.layout})`);
  return {
    sessions: whole('sessions', values.sessions, 1),
    repeats: whole('repeats', values.repeats, 1),
    layout,
    originalSample: whole('original-sample', values['original-sample'], 1),
    batchSize:
      values['batch-size'] === undefined ? null : whole('batch-size', values['batch-size'], 1),
    adopted: values.adopted,
    workers: [
      ...new Set(
        values.workers
          .split(',')
          .filter((raw) => raw.trim() !== '')
          .map((raw) => whole('workers', raw.trim(), 2)),
      ),
    ],
    server: values.server,
  };
}

function resultsFile(sessions: number, layout: SessionLayout): string {
  return path.join(RESULTS_DIRECTORY, `bench-${sessions}-${layout}.json`);
}

/** The peak RSS of (a) in the last run on file with fewer sessions and the same layout. */
function smallerRunPeakRss(
  sessions: number,
  layout: SessionLayout,
): { sessions: number; peakRssMiB: number } | null {
  for (const smaller of [200_000, 100_000]) {
    if (smaller >= sessions || !existsSync(resultsFile(smaller, layout))) continue;
    const saved = JSON.parse(readFileSync(resultsFile(smaller, layout), 'utf8')) as {
      a: { peakRssMiB: number };
    };
    return { sessions: smaller, peakRssMiB: saved.a.peakRssMiB };
  }
  return null;
}

/** One timed contestant: resets the goals, runs, returns its time and goal count. */
interface Contestant {
  key: string;
  label: string;
  run: () => Promise<{ elapsedMs: number; goals: number }>;
  times: number[];
  goals: number;
}

async function main(): Promise<void> {
  const options = parseOptions();
  // The migrations log through the default logger; the benchmark prints its own lines.
  process.env.GOAL_BACKFILL_LOG_LEVEL ??= 'warn';
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const database = await createScratchDatabase(
    options.server,
    `goal_backfill_bench_${process.pid}`,
  );
  const adopted = options.adopted
    ? await createAdoptedDatabase(
        options.server,
        `goal_backfill_bench_adopted_${process.pid}`,
        options.sessions,
        options.layout,
      )
    : null;
  try {
    const { knex } = database;
    await knex.migrate.latest({ directory: MIGRATIONS_DIRECTORY, loadExtensions: ['.ts'] });
    const version = (await knex.raw('SHOW server_version')).rows[0].server_version as string;
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
    log(
      `goal-backfill benchmark, ${new Date().toISOString().slice(0, 16)}Z, commit ${commit}: ` +
        `${count(options.sessions)} sessions, median of ${options.repeats}, batch size ` +
        `${options.batchSize ?? 'default'}; PostgreSQL ${version}; ${cpus().length} cores, ` +
        `${Math.round(totalmem() / 2 ** 30)} GiB`,
    );
    const generatedAt = performance.now();
    const seeded = await seedLaidOut(knex, options.sessions, options.layout);
    const correlation = await layoutCorrelations(knex);
    const keptGoals = await keepClinicianGoals(knex);
    log(
      `data: ${count(seeded.sessions)} sessions, ${count(seeded.expectedBackfill.itemsSeen)} action items ` +
        `(${count(seeded.expectedBackfill.validItems)} valid, ${count(seeded.expectedBackfill.invalidSkipped)} invalid), ` +
        `${count(keptGoals)} goals there before the backfill; generated in ${seconds(performance.now() - generatedAt)} s`,
    );
    log(
      `layout: ${options.layout} (${options.layout === 'created-at' ? 'as an app writes them, patients interleaved' : 'patient by patient, the best case'}); ` +
        `heap correlation patient_id ${correlation.patientId.toFixed(3)}, created_at ${correlation.createdAt.toFixed(3)}`,
    );

    const batch = options.batchSize === null ? [] : ['--batch-size', String(options.batchSize)];
    const rss: number[] = [];
    const reported: number[] = [];
    const cli =
      (args: readonly string[], keepRss: boolean, url = database.url) =>
      async () => {
        const real = await runOperatorCli(url, [...batch, ...args]);
        if (real.summary.errors !== 0)
          throw new Error(`the CLI failed ${real.summary.errors} sessions`);
        if (keepRss) {
          rss.push(real.peakRssKiB);
          reported.push(real.summary.elapsedMs);
        }
        return { elapsedMs: real.elapsedMs, goals: real.summary.goalsCreated };
      };
    const statement =
      (run: () => Promise<{ goalsCreated: number; elapsedMs: number }>) => async () => {
        const result = await run();
        return { elapsedMs: result.elapsedMs, goals: result.goalsCreated };
      };
    const contestant = (key: string, label: string, run: Contestant['run']): Contestant => ({
      key,
      label,
      run,
      times: [],
      goals: -1,
    });
    const contestants: Contestant[] = [
      contestant(
        'b_not_exists',
        'INSERT … SELECT DISTINCT ON … WHERE NOT EXISTS',
        statement(() => runCheapestStatement(knex)),
      ),
      contestant(
        'b_lean',
        "the page statement's lean form over every session",
        statement(() => runSetBasedReference(knex)),
      ),
      contestant('a', 'goal-backfill run', cli([], true)),
    ];
    if (cliHasWorkersOption()) {
      for (const n of options.workers) {
        contestants.push(
          contestant(
            n === 2 ? 'a_workers' : `a_workers_${n}`,
            `goal-backfill run --workers ${n}`,
            cli(['--workers', String(n)], false),
          ),
        );
      }
    }
    if (adopted) {
      const run = cli([], false, adopted.url);
      contestants.push(
        contestant(
          'a_adopted',
          'goal-backfill run, into the app’s own treatment_goals',
          async () => {
            await resetGoals(adopted.knex);
            return run();
          },
        ),
      );
    }
    const dry: number[] = [];
    let dryGoals = -1;
    let adoptedDigest = '';

    for (let repeat = 1; repeat <= options.repeats; repeat += 1) {
      // Rotate which goes first, so drift on a shared machine favours none of them.
      const shift = (repeat - 1) % contestants.length;
      const order = [...contestants.slice(shift), ...contestants.slice(0, shift)];
      for (const c of order) {
        await resetGoals(knex);
        const { elapsedMs, goals } = await c.run();
        c.times.push(elapsedMs);
        if (c.goals !== -1 && c.goals !== goals)
          throw new Error(`${c.key} wrote ${goals} goals, then ${c.goals}`);
        c.goals = goals;
        if (repeat === 1 && c.key === 'a_adopted' && adopted) {
          adoptedDigest = await goalDigest(adopted.knex);
        } else if (repeat === 1) await snapshotGoals(knex, `bench_goals_${c.key}`);
      }
      await resetGoals(knex);
      const dryRun = await cli(['--dry-run'], false)();
      dry.push(dryRun.elapsedMs);
      dryGoals = dryRun.goals;
      log(
        `  repeat ${repeat}: ${order.map((c) => `${c.key} ${seconds(c.times.at(-1) ?? 0)} s`).join(', ')}, dry ${seconds(dry.at(-1) ?? 0)} s`,
      );
    }
    const a = contestants.find((c) => c.key === 'a') as Contestant;
    const mismatched: string[] = [];
    for (const c of contestants) {
      const differs =
        c.key === 'a_adopted'
          ? adoptedDigest !== (await goalDigest(knex, 'bench_goals_a'))
          : (await countDifferences(knex, `bench_goals_${c.key}`, 'bench_goals_a')) !== 0;
      if (c.goals !== a.goals || differs) mismatched.push(c.key);
    }
    if (dryGoals !== a.goals) mismatched.push('dry run count');
    await resetGoals(knex);
    const original = await runOriginalDesign(knex, options.originalSample);

    const b = contestants.find((c) => c.key === 'b_not_exists') as Contestant;
    const bMs = median(b.times);
    const aMs = median(a.times);
    const dryMs = median(dry);
    const peakRssMiB = Math.max(...rss) / 1024;
    const perSessionA = aMs / options.sessions;
    const perSessionC = original.elapsedMs / original.sessions;
    const speedup = perSessionC / perSessionA;
    log(`${a.goals.toLocaleString('en-US')} goals; times are medians, ratios to (b) = ${b.key}:`);
    const line = (name: string, ms: number, note = '') =>
      log(`${name.padEnd(62)} ${seconds(ms).padStart(8)} s  ${(ms / bMs).toFixed(2)} × (b)${note}`);
    for (const c of contestants) {
      const tag =
        c === b
          ? '(b) '
          : c.key === 'b_lean'
            ? '(b′)'
            : c.key.startsWith('b')
              ? '    '
              : c.key === 'a'
                ? '(a) '
                : c.key === 'a_adopted'
                  ? '(aA)'
                  : `(a${c.label.split(' ').at(-1)})`.padEnd(4);
      line(
        `${tag} ${c.label}`,
        median(c.times),
        c.key === 'a' ? `  peak RSS ${peakRssMiB.toFixed(1)} MiB` : '',
      );
    }
    log(
      `${'     its own reported time (no process start, no connection)'.padEnd(62)} ${seconds(median(reported)).padStart(8)} s  ${(median(reported) / bMs).toFixed(2)} × (b)`,
    );
    log(
      `${'     goal-backfill run --dry-run'.padEnd(62)} ${seconds(dryMs).padStart(8)} s  ${(dryMs / aMs).toFixed(2)} × (a)`,
    );
    log(
      `(c)  original design, ${count(original.sessions)} sessions: ${count(1000 / perSessionC)} sessions/s; ` +
        `(a) does ${count(1000 / perSessionA)} sessions/s, ${speedup.toFixed(1)} × faster per session`,
    );
    log(
      `identical goals from ${contestants.map((c) => c.key).join(', ')}: ${mismatched.length === 0 ? 'yes' : `NO (${mismatched.join(', ')})`}`,
    );

    const smaller = smallerRunPeakRss(options.sessions, options.layout);
    const aWorkers = contestants.find((c) => c.key === 'a_workers');
    const aAdopted = contestants.find((c) => c.key === 'a_adopted');
    // The targets of issue 21 ("Read sessions in the order the disk holds them").
    const RUN_TARGET = 1.1;
    const WORKERS_TARGET = 0.6;
    const targets: [string, boolean][] = [
      [
        `goal-backfill run ≤ ${RUN_TARGET} × (b): ${(aMs / bMs).toFixed(2)}`,
        aMs / bMs <= RUN_TARGET,
      ],
      [`dry run ≤ 0.5 × real run: ${(dryMs / aMs).toFixed(2)}`, dryMs / aMs <= 0.5],
      [`peak RSS < 128 MiB: ${peakRssMiB.toFixed(1)} MiB`, peakRssMiB < 128],
      smaller === null
        ? [`peak RSS flat: no smaller run of this layout on file to compare with`, true]
        : [
            `peak RSS flat, within 25% of the ${count(smaller.sessions)} run (${smaller.peakRssMiB.toFixed(1)} MiB): ${(peakRssMiB / smaller.peakRssMiB).toFixed(2)} ×`,
            peakRssMiB / smaller.peakRssMiB <= 1.25,
          ],
      aWorkers
        ? [
            `run --workers 2 ≤ ${WORKERS_TARGET} × (b): ${(median(aWorkers.times) / bMs).toFixed(2)}`,
            median(aWorkers.times) / bMs <= WORKERS_TARGET,
          ]
        : [
            `run --workers 2 ≤ ${WORKERS_TARGET} × (b): ${options.workers.includes(2) ? 'the CLI has no --workers option' : 'not measured (--workers without 2)'}`,
            false,
          ],
      [`per session ≥ 30 × the original design: ${speedup.toFixed(1)}`, speedup >= 30],
      ...(aAdopted
        ? [
            [
              `into the app's own treatment_goals ≤ 1.10 × into a created one: ${(median(aAdopted.times) / aMs).toFixed(2)}`,
              median(aAdopted.times) / aMs <= 1.1,
            ] as [string, boolean],
          ]
        : []),
      ['identical goals from every statement and run', mismatched.length === 0],
    ];
    for (const [label, met] of targets) log(`target ${met ? 'MET   ' : 'MISSED'} ${label}`);

    mkdirSync(RESULTS_DIRECTORY, { recursive: true });
    const file = resultsFile(options.sessions, options.layout);
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          postgres: version,
          cores: cpus().length,
          commit,
          options: { ...options, server: undefined },
          correlation,
          data: { sessions: seeded.sessions, expected: seeded.expectedBackfill, keptGoals },
          goals: a.goals,
          reference: b.key,
          contestants: Object.fromEntries(
            contestants.map((c) => [
              c.key,
              { runsMs: c.times, medianMs: median(c.times), ratioToB: median(c.times) / bMs },
            ]),
          ),
          a: { peakRssMiB, rssKiB: rss, reportedMs: reported },
          dryRun: { runsMs: dry, medianMs: dryMs, ratioToReal: dryMs / aMs },
          c: { ...original, sessionsPerSecond: 1000 / perSessionC, speedupOfA: speedup },
          mismatched,
          targets: Object.fromEntries(targets),
        },
        null,
        2,
      )}\n`,
    );
    log(`figures written to ${path.relative(process.cwd(), file)}`);
    if (targets.some(([, met]) => !met)) process.exitCode = 1;
  } finally {
    await database.drop();
    await adopted?.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

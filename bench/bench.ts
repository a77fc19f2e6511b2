/**
 * npm run bench -- [--sessions N] [--repeats R] [--original-sample K] [--batch-size B]
 *
 * Generates N realistic sessions (the seed generator) into a scratch database, then times, on
 * the same data and in the same run: (a) the backfill through the built CLI, as an operator
 * runs it; (b) one set-based statement applying the same rules; (c) the original design on a
 * sample. Prints each one's time, goals per second and ratio to (b), the peak RSS of (a), the
 * dry run's ratio to the real run, whether (a) and (b) wrote identical goals, and the targets.
 * Writes the figures as JSON under bench-results/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MIGRATIONS_DIRECTORY } from './paths';
import { silentLogger } from '../src/logging/logger';
import { seedDatabase } from '../src/seed/seed-database';
import { countDifferences, keepClinicianGoals, resetGoals, snapshotGoals } from './goal-snapshot';
import { runOperatorCli } from './operator-cli-run';
import { runOriginalDesign } from './original-design';
import { createScratchDatabase } from './scratch-database';
import { runSetBasedReference } from './set-based-reference';
import { count, median, seconds } from './statistics';

const RESULTS_DIRECTORY = path.join(__dirname, '..', 'bench-results');

function parseOptions() {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '100000' },
      repeats: { type: 'string', default: '5' },
      'original-sample': { type: 'string', default: '2000' },
      'batch-size': { type: 'string' },
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
  return {
    sessions: whole('sessions', values.sessions, 1),
    repeats: whole('repeats', values.repeats, 1),
    originalSample: whole('original-sample', values['original-sample'], 1),
    batchSize:
      values['batch-size'] === undefined ? null : whole('batch-size', values['batch-size'], 1),
    server: values.server,
  };
}

function previousPeakRss(sessions: number): number | null {
  const file = path.join(RESULTS_DIRECTORY, `bench-${sessions}.json`);
  if (!existsSync(file)) return null;
  return (JSON.parse(readFileSync(file, 'utf8')) as { a: { peakRssMiB: number } }).a.peakRssMiB;
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
  try {
    const { knex } = database;
    await knex.migrate.latest({ directory: MIGRATIONS_DIRECTORY, loadExtensions: ['.ts'] });
    const version = (await knex.raw('SHOW server_version')).rows[0].server_version as string;
    log(
      `goal-backfill benchmark, ${new Date().toISOString().slice(0, 10)}: ${count(options.sessions)} sessions, ` +
        `median of ${options.repeats}, batch size ${options.batchSize ?? 'default'}; PostgreSQL ${version}; ` +
        `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    );
    const generatedAt = performance.now();
    const seeded = await seedDatabase({ knex, logger: silentLogger, sessions: options.sessions });
    await knex.raw('VACUUM ANALYZE');
    log(
      `data: ${count(seeded.sessions)} sessions, ${count(seeded.expectedBackfill.itemsSeen)} action items ` +
        `(${count(seeded.expectedBackfill.validItems)} valid, ${count(seeded.expectedBackfill.invalidSkipped)} invalid), ` +
        `${count(seeded.clinicianGoals)} clinician goals; generated in ${seconds(performance.now() - generatedAt)} s`,
    );
    await keepClinicianGoals(knex);

    const b: number[] = [];
    const a: number[] = [];
    const dry: number[] = [];
    const rss: number[] = [];
    const aReported: number[] = [];
    let goals = 0;
    let aGoals = 0;
    const batch = options.batchSize === null ? [] : ['--batch-size', String(options.batchSize)];
    const timeReference = async (repeat: number) => {
      await resetGoals(knex);
      const reference = await runSetBasedReference(knex);
      b.push(reference.elapsedMs);
      goals = reference.goalsCreated;
      if (repeat === 1) await snapshotGoals(knex, 'bench_reference_goals');
    };
    const timeCli = async (repeat: number) => {
      await resetGoals(knex);
      const real = await runOperatorCli(database.url, batch);
      a.push(real.elapsedMs);
      aReported.push(real.summary.elapsedMs);
      rss.push(real.peakRssKiB);
      if (real.summary.errors !== 0) throw new Error(`(a) failed ${real.summary.errors} sessions`);
      aGoals = real.summary.goalsCreated;
      if (repeat === 1) await snapshotGoals(knex, 'bench_cli_goals');
    };
    for (let repeat = 1; repeat <= options.repeats; repeat += 1) {
      // Alternate which goes first, so drift on a shared machine does not favour either.
      if (repeat % 2 === 1) {
        await timeReference(repeat);
        await timeCli(repeat);
      } else {
        await timeCli(repeat);
        await timeReference(repeat);
      }
      await resetGoals(knex);
      dry.push((await runOperatorCli(database.url, [...batch, '--dry-run'])).elapsedMs);
      log(
        `  repeat ${repeat}: (b) ${seconds(b.at(-1) ?? 0)} s, (a) ${seconds(a.at(-1) ?? 0)} s, dry ${seconds(dry.at(-1) ?? 0)} s`,
      );
    }
    if (aGoals !== goals) throw new Error(`(a) created ${aGoals} goals; (b) created ${goals}`);
    const identical =
      (await countDifferences(knex, 'bench_cli_goals', 'bench_reference_goals')) === 0;

    await resetGoals(knex);
    const original = await runOriginalDesign(knex, options.originalSample);

    const bMs = median(b);
    const aMs = median(a);
    const dryMs = median(dry);
    const peakRssMiB = Math.max(...rss) / 1024;
    const perSessionA = aMs / options.sessions;
    const perSessionC = original.elapsedMs / original.sessions;
    const speedup = perSessionC / perSessionA;
    const rate = (ms: number) => count((goals / ms) * 1000);
    log(
      `(b) one set-based statement      ${seconds(bMs).padStart(8)} s  ${rate(bMs).padStart(9)} goals/s  1.00 × (b)`,
    );
    log(
      `(a) goal-backfill run (CLI)      ${seconds(aMs).padStart(8)} s  ${rate(aMs).padStart(9)} goals/s  ` +
        `${(aMs / bMs).toFixed(2)} × (b)  peak RSS ${peakRssMiB.toFixed(1)} MiB`,
    );
    log(
      `    its own reported time        ${seconds(median(aReported)).padStart(8)} s  ` +
        `(${(median(aReported) / bMs).toFixed(2)} × (b) without process start and connection)`,
    );
    log(
      `    goal-backfill run --dry-run  ${seconds(dryMs).padStart(8)} s  ${(dryMs / aMs).toFixed(2)} × the real run`,
    );
    log(
      `(c) original design, ${count(original.sessions)} sessions ${seconds(original.elapsedMs).padStart(6)} s  ` +
        `${count(1000 / perSessionC).padStart(9)} sessions/s; (a) does ${count(1000 / perSessionA)} sessions/s, ` +
        `${speedup.toFixed(1)} × faster per session`,
    );
    log(`(a) and (b) wrote identical goals: ${identical ? 'yes' : 'NO'} (${count(goals)} goals)`);

    const baselineRss = options.sessions === 100_000 ? null : previousPeakRss(100_000);
    const targets: [string, boolean][] = [
      [`(a) ≤ 1.3 × (b): ${(aMs / bMs).toFixed(2)}`, aMs / bMs <= 1.3],
      [`(a) ≥ 30 × faster than (c) per session: ${speedup.toFixed(1)}`, speedup >= 30],
      [`dry run ≤ 1.5 × real run: ${(dryMs / aMs).toFixed(2)}`, dryMs / aMs <= 1.5],
      [`peak RSS of (a) < 256 MiB: ${peakRssMiB.toFixed(1)} MiB`, peakRssMiB < 256],
      [`identical goals from (a) and (b)`, identical === true],
    ];
    if (baselineRss !== null) {
      const growth = peakRssMiB / baselineRss;
      targets.push([
        `peak RSS within 25% of the 100k run (${baselineRss.toFixed(1)} MiB): ${growth.toFixed(2)} ×`,
        growth <= 1.25,
      ]);
    }
    for (const [label, met] of targets) log(`target ${met ? 'MET ' : 'MISSED'} ${label}`);

    mkdirSync(RESULTS_DIRECTORY, { recursive: true });
    const file = path.join(RESULTS_DIRECTORY, `bench-${options.sessions}.json`);
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          postgres: version,
          cores: cpus().length,
          commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
            encoding: 'utf8',
          }).trim(),
          options: { ...options, server: undefined },
          data: {
            sessions: seeded.sessions,
            expected: seeded.expectedBackfill,
            clinicianGoals: seeded.clinicianGoals,
          },
          goals,
          b: { runsMs: b, medianMs: bMs },
          a: {
            runsMs: a,
            medianMs: aMs,
            ratioToB: aMs / bMs,
            reportedMs: aReported,
            peakRssMiB,
            rssKiB: rss,
          },
          dryRun: { runsMs: dry, medianMs: dryMs, ratioToReal: dryMs / aMs },
          c: { ...original, sessionsPerSecond: 1000 / perSessionC, speedupOfA: speedup },
          identical,
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
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { getBackfillStatus } from '../../src/status';
import {
  expectGoalsToEqualModel,
  expectReconciled,
  resetData,
} from '../support/backfill-assertions';
import { CapturingLogger } from '../support/capturing-logger';
import { insertSessions, insertUsers, readGoals, type SessionSpec } from '../support/fixtures';
import { type ModelSession, modelBackfill } from '../support/reference-model';
import { PROJECT_ROOT, runCommand, userEnvironment } from '../support/run-command';
import { createTestDatabase, onPglite, type TestDatabase } from '../support/test-database';

/** Planted in task text and details: it must never reach a log, an error or a report. */
const MARKER = 'PLANTED-HEALTH-MARKER-91c2';

let db: TestDatabase;
let reference: TestDatabase;

beforeAll(async () => {
  [db, reference] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});

afterAll(async () => {
  await Promise.all([db.drop(), reference.drop()]);
});

/** The same users and sessions, ids included, for two databases. */
async function seedIdentically(
  targets: TestDatabase[],
  sessionCount: number,
): Promise<ModelSession[]> {
  const [first, ...rest] = targets;
  if (!first) throw new Error('no database');
  const patients = await insertUsers(first.knex, 50, 'patient');
  const specs: SessionSpec[] = Array.from(
    { length: sessionCount },
    (_, i): SessionSpec => ({
      patientId: patients[i % 50] ?? '',
      sessionDate: new Date(Date.UTC(2024, 0, 1) + ((i * 7919) % 365) * 86_400_000).toISOString(),
      notes:
        i % 11 === 0
          ? null
          : {
              action_items: [
                { task: `Carry-over ${i % 17} ${MARKER}`, details: `said ${MARKER}` },
                { task: `Own task ${i} ${MARKER}`, category: 'practice' },
                { task: '   ' },
              ],
            },
    }),
  );
  const sessions = await insertSessions(first.knex, specs);
  for (const other of rest) {
    const users = await first.knex('users').select('*');
    for (let i = 0; i < users.length; i += 1000)
      await other.knex('users').insert(users.slice(i, i + 1000));
    await insertSessions(other.knex, sessions);
  }
  return sessions;
}

type Goal = Awaited<ReturnType<typeof readGoals>>[number];
const byIdentity = (a: Goal, b: Goal) =>
  a.patient_id === b.patient_id
    ? a.description < b.description
      ? -1
      : 1
    : a.patient_id < b.patient_id
      ? -1
      : 1;

// Terminating a backend and killing a process need a server; PGlite lives in-process.
describe.skipIf(onPglite)('a backfill whose connection is terminated mid-run', () => {
  it('reconnects, reloads its checkpoint and ends exactly like an uninterrupted run', async () => {
    await db.migrateLatest();
    await resetData(db.knex);
    const sessions = await seedIdentically([db], 3000);
    const logger = new CapturingLogger();
    let terminated = 0;
    const result = await runBackfill({
      knex: db.knex,
      logger,
      batchSize: 100,
      onProgress: (progress) => {
        if (terminated === 0 && progress.sessionsProcessed >= 1000) {
          terminated = 1;
          void db.knex
            .raw(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = 'goal-backfill library'
                  AND pid <> pg_backend_pid()`,
            )
            .then(() => undefined);
        }
      },
    });
    const model = modelBackfill(sessions);
    expect(logger.named('backfill.reconnected')).toHaveLength(1);
    // The statement that loses its connection may be a page, a strain check or a census.
    const retries = logger.events.filter((captured) => captured.event.endsWith('.retry'));
    expect(retries[0]?.fields).toMatchObject({ kind: 'connection' });
    expect(result).toMatchObject({
      outcome: 'completed',
      sessionsProcessed: 3000,
      goalsCreated: model.counts.goalsCreated,
      duplicatesSkipped: model.counts.duplicatesSkipped,
      invalidSkipped: model.counts.invalidSkipped,
      errors: 0,
    });
    expectReconciled(result);
    await expectGoalsToEqualModel(db.knex, model.goals);
    expect(logger.text()).not.toContain(MARKER);
  });
});

/** Runs a command in its own process group, so SIGKILL takes npx and node down together. */
function spawnGroup(args: string[], env: Record<string, string>) {
  const child = spawn('npx', args, {
    cwd: PROJECT_ROOT,
    env: userEnvironment(env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, exited, output: () => output };
}

describe.skipIf(onPglite)('a migration killed with SIGKILL mid-backfill', () => {
  it('leaves Knex locked, says how to recover, and resumes to the same goals as an uninterrupted run', async () => {
    await resetData(db.knex);
    await Promise.all([
      db.knex.migrate.rollback(undefined, true),
      reference.knex.migrate.rollback(undefined, true),
    ]);
    await Promise.all([db.knex.migrate.up(), reference.knex.migrate.up()]);
    await Promise.all([db.knex.migrate.up(), reference.knex.migrate.up()]);
    await seedIdentically([db, reference], 20_000);
    const env = {
      DATABASE_URL: db.url,
      GOAL_BACKFILL_BATCH_SIZE: '50',
      GOAL_BACKFILL_LOG_LEVEL: 'debug',
    };

    const migration = spawnGroup(['knex', 'migrate:latest'], env);
    let processed = 0;
    for (let i = 0; i < 600 && processed < 2000; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const rows = await db
        .knex('goal_backfill_runs')
        .select(db.knex.raw("(counts->>'sessionsProcessed')::int AS n"));
      processed = rows[0]?.n ?? 0;
    }
    expect(processed).toBeGreaterThanOrEqual(2000);
    process.kill(-(migration.child.pid ?? 0), 'SIGKILL');
    await migration.exited;

    const [run] = await db.knex('goal_backfill_runs').select('status', 'read_pass');
    expect(run).toMatchObject({ status: 'running' });
    expect(run?.read_pass?.split.lanes[0].cursor).not.toBeNull();
    const partial = await readGoals(db.knex);
    expect(partial.length).toBeGreaterThan(0);

    const blocked = await runCommand('npx', ['knex', 'migrate:latest'], env);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toContain('Migration table is already locked');
    const status = await getBackfillStatus({ knex: db.knex });
    expect(status.knexMigrationLockStuck).toBe(true);
    expect(status.resumableRun?.status).toBe('running');

    expect((await runCommand('npx', ['knex', 'migrate:unlock'], env)).code).toBe(0);
    const resumed = await runCommand('npx', ['knex', 'migrate:latest'], env);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/backfill\.start .*resumed=true/);

    const uninterrupted = await runCommand('npx', ['knex', 'migrate:latest'], {
      ...env,
      DATABASE_URL: reference.url,
    });
    expect(uninterrupted.code).toBe(0);

    const strip = (goals: Goal[]) => goals.sort(byIdentity);
    expect(strip(await readGoals(db.knex))).toEqual(strip(await readGoals(reference.knex)));
    const counts = async (target: TestDatabase) =>
      (await target.knex('goal_backfill_runs').select('counts', 'status'))[0];
    expect(await counts(db)).toEqual(await counts(reference));
    for (const output of [
      migration.output(),
      blocked.stderr,
      blocked.stdout,
      resumed.stderr,
      resumed.stdout,
    ]) {
      expect(output).not.toContain(MARKER);
    }
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { runBackfill } from '../../../src/backfill/run';
import { silentLogger } from '../../../src/logging';
import { runStoppedAfterFirstPage } from '../../support/backfill-assertions';
import { holdBackfillLock } from '../../support/database-faults';
import { insertClinicianGoal, tableCounts } from '../../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../../support/test-database';
import { seedKnownSessions } from '../cli-fixtures';
import { runCli, withoutServer } from '../cli-harness';

/** The published schema docs/schemas/`file`, compiled strictly. */
function schema(file: string): ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  const text = readFileSync(
    path.join(__dirname, '..', '..', '..', 'docs', 'schemas', file),
    'utf8',
  );
  return ajv.compile(JSON.parse(text));
}

function expectValid(validate: ValidateFunction, value: unknown): void {
  const valid = validate(value);
  expect(validate.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
}

describe.skipIf(withoutServer)('the JSON output matches its published schema', () => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url });
  const runResult = schema('run-result.schema.json');
  const status = schema('status.schema.json');
  const rollbackResult = schema('rollback-result.schema.json');

  useMigratedDatabase((created) => {
    db = created;
  });

  it('run --dry-run --json and run --json', async () => {
    await seedKnownSessions(db.knex);
    const before = await tableCounts(db.knex);
    const dry = await runCli(['run', '--dry-run', '--json'], { env: env() });
    expect(dry.code).toBe(0);
    const dryResult = JSON.parse(dry.stdout);
    expectValid(runResult, dryResult);
    expect(dryResult).toMatchObject({ runId: null, dryRun: true });
    expect(await tableCounts(db.knex)).toEqual(before);

    const real = await runCli(['run', '--json'], { env: env() });
    expect(real.code).toBe(0);
    const result = JSON.parse(real.stdout);
    expectValid(runResult, result);
    expect(result.goalsCreated).toBe(dryResult.goalsCreated);
    const row = await db.knex('goal_backfill_runs').where({ id: result.runId }).first();
    expect(row).toMatchObject({ status: 'succeeded' });
    expect(row.counts.goalsCreated).toBe(result.goalsCreated);
  });

  it('rollback --dry-run --json and rollback --json: the counts the table holds after', async () => {
    const [session] = await seedKnownSessions(db.knex);
    expect((await runCli(['run'], { env: env() })).code).toBe(0);
    // A second run left interrupted, with a checkpoint for the rollback to drop.
    const interrupted = await runStoppedAfterFirstPage(db.knex, 2);
    expect(interrupted.outcome).toBe('interrupted');
    await db
      .knex('treatment_goals')
      .where({ description: 'Read' })
      .update({ status: 'in_progress' });
    await insertClinicianGoal(db.knex, {
      patientId: session?.patientId ?? '',
      description: 'Sleep',
    });
    const before = await tableCounts(db.knex);

    const dry = await runCli(['rollback', '--dry-run', '--json'], { env: env() });
    expect(dry.code).toBe(0);
    expect(dry.stdout.trimEnd().split('\n')).toHaveLength(1);
    const dryResult = JSON.parse(dry.stdout);
    expectValid(rollbackResult, dryResult);
    expect(dryResult).toMatchObject({
      dryRun: true,
      includeChanged: false,
      deleted: 2,
      keptChanged: 1,
      keptClinician: 1,
      checkpointsAbandoned: 0,
    });
    expect(await tableCounts(db.knex)).toEqual(before);

    const real = await runCli(['rollback', '--json'], { env: env() });
    expect(real.code).toBe(0);
    const result = JSON.parse(real.stdout);
    expectValid(rollbackResult, result);
    expect(result).toMatchObject({
      dryRun: false,
      includeChanged: false,
      deleted: 2,
      keptChanged: 1,
      keptClinician: 1,
      checkpointsAbandoned: 1,
    });
    const left = await db
      .knex('treatment_goals')
      .select('description', db.knex.raw("origin IS NOT DISTINCT FROM 'backfill' AS backfilled"))
      .orderBy('description');
    expect(left).toEqual([
      { description: 'Read', backfilled: true },
      { description: 'Sleep', backfilled: false },
    ]);
    const run = await db.knex('goal_backfill_runs').where({ id: interrupted.runId }).first();
    expect(run).toMatchObject({ status: 'abandoned', cursor_session_id: null });
  });

  it('status --json: ISO 8601 UTC timestamps from the database, whatever the session TimeZone', async () => {
    await seedKnownSessions(db.knex);
    const interrupted = await runStoppedAfterFirstPage(db.knex, 2);
    expect(interrupted.outcome).toBe('interrupted');
    const url = `${db.url}?options=${encodeURIComponent('-c TimeZone=Asia/Kolkata')}`;
    const run = await runCli(['status', '--json', '--limit', '50'], { env: { DATABASE_URL: url } });
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout);
    expectValid(status, parsed);
    expect(parsed.resumableRun?.id).toBe(interrupted.runId);
    expect(parsed.resumableRun?.checkpoint).not.toBeNull();

    const rows: { id: string; started_at: Date; heartbeat_at: Date | null }[] = await db
      .knex('goal_backfill_runs')
      .select('id', 'started_at', 'heartbeat_at');
    expect(parsed.recentRuns).toHaveLength(rows.length);
    for (const listed of parsed.recentRuns) {
      const row = rows.find((candidate) => candidate.id === listed.id);
      expect(listed.startedAt).toBe(row?.started_at.toISOString());
      expect(listed.heartbeatAt).toBe(row?.heartbeat_at?.toISOString() ?? null);
    }
  });

  it('status --json of a run stopped while two workers read it: every lane, and the counts summed', async () => {
    await seedKnownSessions(db.knex);
    const controller = new AbortController();
    const stopped = await runBackfill({
      knex: db.knex,
      logger: silentLogger,
      batchSize: 2,
      workers: 2,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    expect(stopped.outcome).toBe('interrupted');
    const run = await runCli(['status', '--json'], { env: env() });
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout);
    expectValid(status, parsed);
    const { resumableRun } = parsed;
    expect(resumableRun.id).toBe(stopped.runId);
    const lanes: { counts: { sessionsProcessed: number } }[] = resumableRun.pass.split.lanes;
    expect(lanes).toHaveLength(2);
    const laneSessions = lanes.reduce((sum, lane) => sum + lane.counts.sessionsProcessed, 0);
    expect(laneSessions).toBeGreaterThan(0);
    expect(resumableRun.counts.sessionsProcessed).toBe(laneSessions);
    expect(resumableRun.counts.sessionsProcessed).toBe(stopped.sessionsProcessed);
  });

  it('status --json while another process holds the lock', async () => {
    const parsed = await holdBackfillLock(db.url, async (pid) => {
      const run = await runCli(['status', '--json'], { env: env() });
      expect(run.code).toBe(0);
      const value = JSON.parse(run.stdout);
      expect(value.lockHolder).toEqual({ pid, applicationName: 'operator-two' });
      return value;
    });
    expectValid(status, parsed);
  });
});

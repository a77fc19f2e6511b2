import { describe, expect, it } from 'vitest';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';
import { MARKER, seedKnownSessions } from './cli-fixtures';
import { linesOf, runCli, withoutServer } from './cli-harness';

describe.skipIf(withoutServer)('goal-backfill run, backing off under strain', () => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url });

  useMigratedDatabase((created) => {
    db = created;
  });

  it('--health-query waits what it answers after each full page, and logs each back-off', async () => {
    await seedKnownSessions(db.knex);
    await db.knex.raw('CREATE TABLE test_health (delay_ms int)');
    await db.knex.raw('INSERT INTO test_health VALUES (250)');
    const run = await runCli(
      [
        'run',
        '--json',
        '--log-format',
        'json',
        '--batch-size',
        '2',
        '--health-query',
        'SELECT delay_ms FROM test_health',
      ],
      { env: env() },
    );
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.goalsCreated).toBe(3);
    // Pages of 2, 2 and 1 sessions: a back-off after each of the two full ones.
    expect(summary.elapsedMs).toBeGreaterThanOrEqual(500);
    const backOffs = linesOf(run.stderr)
      .map((line) => JSON.parse(line))
      .filter((event) => event.message === 'backfill.backoff');
    expect(backOffs).toHaveLength(2);
    expect(backOffs[0]).toMatchObject({ reason: 'health_query', delayMs: 250 });
    expect(run.stderr).not.toContain(MARKER);
    const [row] = await db.knex('goal_backfill_runs').select('status');
    expect(row?.status).toBe('succeeded');
  });

  it('rejects a --backoff-ms out of range, before touching the database', async () => {
    const run = await runCli(['run', '--backoff-ms', '-5'], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--backoff-ms must be a whole number');
    expect(await db.knex('goal_backfill_runs').count()).toEqual([{ count: '0' }]);
  });
});

import { describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { BACKFILL_LOCK_KEY, WORKERS_LOCK_KEY } from '../../src/db/advisory-lock';
import { BackfillLockedError } from '../../src/errors';
import { silentLogger } from '../../src/logging';
import { rollbackBackfill } from '../../src/rollback';
import { holdBackfillLock } from '../support/database-faults';
import { countRows, insertSessions, insertUsers, readGoals } from '../support/fixtures';
import {
  knexFor,
  onPglite,
  type TestDatabase,
  useMigratedDatabase,
} from '../support/test-database';

let db: TestDatabase;

useMigratedDatabase((created) => {
  db = created;
});

// A second connection holds the lock here; PGlite has only one connection.
describe.skipIf(onPglite)('the backfill lock', () => {
  it('refuses a second backfill at once, naming the holder', async () => {
    await holdBackfillLock(db.url, async (pid) => {
      const error = await runBackfill({ knex: db.knex, logger: silentLogger }).catch((e) => e);
      expect(error).toBeInstanceOf(BackfillLockedError);
      expect(error.code).toBe('LOCKED');
      expect(error.holder).toMatchObject({ pid, applicationName: 'operator-two' });
      expect(error.message).toContain(`backend pid ${pid}`);
      expect(error.message).toContain('goal-backfill status');
      expect(await countRows(db.knex, 'goal_backfill_runs')).toBe(0);
    });
  });

  it('waits for the workers of an earlier run to let go, and leaves no lock behind meanwhile', async () => {
    // A worker of a run whose lock holder lost its connection still finishing its page.
    const straggler = knexFor(db.url, 1);
    const connection = await straggler.client.acquireConnection();
    try {
      await straggler
        .raw('SELECT pg_advisory_lock_shared(CAST(? AS bigint))', [WORKERS_LOCK_KEY])
        .connection(connection);
      const [{ pid }] = (
        await straggler.raw('SELECT pg_backend_pid() AS pid').connection(connection)
      ).rows;
      for (const start of [
        () => runBackfill({ knex: db.knex, logger: silentLogger }),
        () => rollbackBackfill({ knex: db.knex, logger: silentLogger }),
      ]) {
        const error = await start().catch((e) => e);
        expect(error).toBeInstanceOf(BackfillLockedError);
        expect(error.holder.pid).toBe(pid);
      }
      const held = await db.knex.raw(
        `SELECT count(*)::int AS n FROM pg_locks
          WHERE locktype = 'advisory' AND objid = CAST(? AS oid) AND granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [BACKFILL_LOCK_KEY],
      );
      expect(held.rows[0].n).toBe(0);
      expect(await countRows(db.knex, 'goal_backfill_runs')).toBe(0);
      // Once it has let go, a run starts after waiting for it.
      const waiting = runBackfill({ knex: db.knex, logger: silentLogger, lockWaitMs: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await straggler
        .raw('SELECT pg_advisory_unlock_shared(CAST(? AS bigint))', [WORKERS_LOCK_KEY])
        .connection(connection);
      expect((await waiting).outcome).toBe('completed');
    } finally {
      await straggler.client.releaseConnection(connection);
      await straggler.destroy();
    }
  });

  it('guards rollback too', async () => {
    await holdBackfillLock(db.url, async () => {
      await expect(
        rollbackBackfill({ knex: db.knex, logger: silentLogger }),
      ).rejects.toBeInstanceOf(BackfillLockedError);
    });
  });

  it('an aborted wait never takes the lock, even once it frees: the rollback deletes nothing', async () => {
    const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
    await insertSessions(db.knex, [
      {
        patientId: patient,
        sessionDate: '2024-01-01T00:00:00Z',
        notes: { action_items: [{ task: 'A' }] },
      },
    ]);
    await runBackfill({ knex: db.knex, logger: silentLogger });
    const controller = new AbortController();
    const waiting = holdBackfillLock(db.url, async () => {
      const rollback = rollbackBackfill({
        knex: db.knex,
        logger: silentLogger,
        lockWaitMs: 30_000,
        signal: controller.signal,
      }).catch((e) => e);
      await new Promise((resolve) => setTimeout(resolve, 300));
      controller.abort();
      return rollback;
    });
    const startedAt = Date.now();
    expect(await waiting).toBeInstanceOf(BackfillLockedError);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(await readGoals(db.knex)).toHaveLength(1);
    // Aborted before it starts: the lock is free, and still not taken.
    const early = new AbortController();
    early.abort();
    await expect(
      rollbackBackfill({ knex: db.knex, logger: silentLogger, signal: early.signal }),
    ).rejects.toBeInstanceOf(BackfillLockedError);
    expect(await readGoals(db.knex)).toHaveLength(1);
  });

  it('waits up to lockWaitMs for the holder to finish', async () => {
    const other = knexFor(db.url, 1);
    try {
      const connection = await other.client.acquireConnection();
      await other
        .raw('SELECT pg_advisory_lock(?::bigint)', [BACKFILL_LOCK_KEY])
        .connection(connection);
      const released = new Promise((resolve) => setTimeout(resolve, 400)).then(() =>
        other
          .raw('SELECT pg_advisory_unlock(?::bigint)', [BACKFILL_LOCK_KEY])
          .connection(connection),
      );
      const startedAt = Date.now();
      const result = await runBackfill({ knex: db.knex, logger: silentLogger, lockWaitMs: 10_000 });
      await released;
      expect(result.outcome).toBe('completed');
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(350);
      await other.client.releaseConnection(connection);
    } finally {
      await other.destroy();
    }
  });

  it('lets two concurrent runs create each goal once', async () => {
    const patients = await insertUsers(db.knex, 20, 'patient');
    await insertSessions(
      db.knex,
      Array.from({ length: 400 }, (_, i) => ({
        patientId: patients[i % 20] ?? '',
        sessionDate: new Date(Date.UTC(2024, 0, 1 + (i % 90))).toISOString(),
        notes: { action_items: [{ task: `Task ${i % 13}` }] },
      })),
    );
    const [a, b] = await Promise.all([
      runBackfill({ knex: db.knex, logger: silentLogger, batchSize: 20, lockWaitMs: 30_000 }),
      runBackfill({ knex: db.knex, logger: silentLogger, batchSize: 20, lockWaitMs: 30_000 }),
    ]);
    expect((a?.goalsCreated ?? 0) + (b?.goalsCreated ?? 0)).toBe(20 * 13);
    expect(Math.min(a?.goalsCreated ?? 0, b?.goalsCreated ?? 0)).toBe(0);
    expect(await readGoals(db.knex)).toHaveLength(20 * 13);
  });

  it('serialises a migration and a CLI run started together, and neither duplicates a goal', async () => {
    const patients = await insertUsers(db.knex, 10, 'patient');
    await insertSessions(
      db.knex,
      Array.from({ length: 300 }, (_, i) => ({
        patientId: patients[i % 10] ?? '',
        sessionDate: new Date(Date.UTC(2024, 0, 1 + (i % 60))).toISOString(),
        notes: { action_items: [{ task: `Task ${i % 7}` }, { task: `Own ${i}` }] },
      })),
    );
    await db.knex.migrate.down();
    const [migration, cli] = await Promise.allSettled([
      db.knex.migrate.latest(),
      runBackfill({
        knex: db.knex,
        logger: silentLogger,
        batchSize: 10,
        lockWaitMs: 30_000,
        invokedBy: 'cli',
      }),
    ]);
    expect(migration.status).toBe('fulfilled');
    expect(cli.status).toBe('fulfilled');
    expect(await readGoals(db.knex)).toHaveLength(10 * 7 + 300);
    const runs = await db
      .knex('goal_backfill_runs')
      .select('invoked_by', 'status')
      .orderBy('started_at');
    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'succeeded']);
    expect(runs.map((run) => run.invoked_by).sort()).toEqual(['cli', 'migration']);
  });
});

import { describe, expect, it } from 'vitest';
import { holdBackfillLock } from '../support/database-faults';
import { tableCounts } from '../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';
import { settlesWithin, startBin, waitFor } from './bin-process';
import { seedKnownSessions } from './cli-fixtures';
import { runCli, withoutServer } from './cli-harness';

/** How long a command may take to end after the signal; generous for a busy machine. */
const PROMPT_EXIT_MS = 15_000;

describe.skipIf(withoutServer)('a signal while a command waits for the backfill lock', () => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url });

  useMigratedDatabase((created) => {
    db = created;
  });

  /** Whether a goal-backfill connection of `application` is in this database. */
  async function connected(application: string): Promise<boolean> {
    const { rows } = await db.knex.raw(
      'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?',
      [application],
    );
    return Number(rows[0].n) > 0;
  }

  /**
   * Resolves once a connection of `application` has tried the backfill lock at least twice:
   * two lock statements with different start times seen in pg_stat_activity.
   */
  async function triedLockTwice(application: string): Promise<void> {
    const starts = new Set<string>();
    await waitFor(async () => {
      const { rows } = await db.knex.raw(
        `SELECT query_start FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = ?
            AND query LIKE '%pg_try_advisory_lock%'`,
        [application],
      );
      for (const row of rows) starts.add(String(row.query_start));
      return starts.size >= 2;
    });
  }

  it.each([
    ['rollback', 'SIGINT', 'goal-backfill rollback'],
    ['rollback', 'SIGTERM', 'goal-backfill rollback'],
    ['run', 'SIGINT', 'goal-backfill cli'],
  ] as const)(
    '%s on %s exits 130 and changes nothing, even when the lock frees afterwards',
    async (command, signal, application) => {
      await seedKnownSessions(db.knex);
      expect((await runCli(['run'], { env: env() })).code).toBe(0);
      // A second set of sessions a run would backfill, so a run that went ahead would show.
      await seedKnownSessions(db.knex);
      const before = await tableCounts(db.knex);
      let endedWhileHeld = false;
      const bin = startBin([command, '--lock-wait-ms', '120000'], env(), 60_000);
      await holdBackfillLock(db.url, async () => {
        // It polls the lock before the signal.
        await triedLockTwice(application);
        bin.child.kill(signal);
        endedWhileHeld = await settlesWithin(bin.done, PROMPT_EXIT_MS);
      });
      const finished = await bin.done;
      // Until its connections are gone, a command that ignored the signal could take the freed
      // lock and work.
      await waitFor(async () => !(await connected(application)));
      expect(endedWhileHeld).toBe(true);
      expect(finished.code).toBe(130);
      expect(finished.stdout).toBe('');
      expect(finished.stderr).toContain(
        'interrupted while waiting for the lock; nothing was written',
      );
      expect(await tableCounts(db.knex)).toEqual(before);
    },
  );
});

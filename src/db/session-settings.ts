import type { SqlRunner } from './sql-runner';

/** Session settings a backfill applies to its connection for as long as it holds it. */
export interface SessionSettings {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  applicationName: string;
}

/**
 * Settings a database or role can carry (`ALTER DATABASE … SET`) that change how dates and
 * intervals read as text. The backfill pins them, so that no such setting moves its cursor.
 */
const PINNED_FORMATS: readonly (readonly [string, string])[] = [
  ['DateStyle', 'ISO, YMD'],
  ['TimeZone', 'UTC'],
  ['IntervalStyle', 'postgres'],
];

/** Applies the settings to the connection's session (not just one transaction). */
export async function applySessionSettings(
  db: SqlRunner,
  settings: SessionSettings,
): Promise<void> {
  // synchronous_commit is left as the database has it (on by default): a page's commit is
  // durable when it returns. Off lost whole runs on PGlite, which has no WAL writer and is often
  // left without a shutdown (the Knex CLI exits without closing it); on a server it saved no
  // measurable time (100k sessions: 15.2 s on, 14.6 s off, means of five).
  await db.rows(
    `SELECT set_config('statement_timeout', ?, false), set_config('lock_timeout', ?, false),
            set_config('application_name', ?, false)`,
    [String(settings.statementTimeoutMs), String(settings.lockTimeoutMs), settings.applicationName],
  );
  await db.rows(
    `SELECT ${PINNED_FORMATS.map(() => 'set_config(?, ?, false)').join(', ')}`,
    PINNED_FORMATS.flat(),
  );
}

/** Returns the session to the defaults it had before, so the pool gets back a plain connection. */
export async function resetSessionSettings(db: SqlRunner): Promise<void> {
  await db.rows('RESET statement_timeout');
  await db.rows('RESET lock_timeout');
  await db.rows('RESET application_name');
  for (const [name] of PINNED_FORMATS) await db.rows(`RESET ${name}`);
}

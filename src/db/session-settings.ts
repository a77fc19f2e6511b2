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
  // synchronous_commit off: a page and its checkpoint commit together, so a commit lost in a
  // server crash loses both and the resumed run redoes that page; nothing is half-written.
  await db.rows(
    `SELECT set_config('statement_timeout', ?, false), set_config('lock_timeout', ?, false),
            set_config('application_name', ?, false), set_config('synchronous_commit', 'off', false)`,
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
  await db.rows('RESET synchronous_commit');
  for (const [name] of PINNED_FORMATS) await db.rows(`RESET ${name}`);
}

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
 * `TimeZone` is pinned to UTC for a second reason: a `timestamp without time zone` session date
 * is compared with the cursor's instant in the session's zone, and only a zone without daylight
 * saving maps every wall clock to one instant, in the same order.
 *
 * Each one's value before the pin is kept in a custom setting of its own (`saved`) for as long
 * as the backfill holds the connection, and put back when it lets go.
 */
const PINNED_FORMATS = [
  { name: 'DateStyle', pinned: 'ISO, YMD', saved: 'goal_backfill.app_datestyle' },
  { name: 'TimeZone', pinned: 'UTC', saved: 'goal_backfill.app_timezone' },
  { name: 'IntervalStyle', pinned: 'postgres', saved: 'goal_backfill.app_intervalstyle' },
] as const;

/** SQL giving what `saved` keeps, or the current value of `name` when nothing is kept. */
function savedOrCurrent(format: (typeof PINNED_FORMATS)[number]): string {
  return `coalesce(nullif(current_setting('${format.saved}', true), ''), current_setting('${format.name}'))`;
}

/**
 * SQL giving the app's time zone: on a backfill's connection, the `TimeZone` the connection had
 * before the backfill pinned it (the server's, the database's or role's `ALTER … SET`, the
 * connection's own); on any other connection, its `TimeZone`. The backfill reads it where a
 * date crosses between a wall clock (`timestamp without time zone`) and an instant
 * (`timestamptz`), so that the app sees the same wall clock on both sides.
 */
export const APP_TIME_ZONE_SQL = savedOrCurrent(PINNED_FORMATS[1]);

/** Applies the settings to the connection's session (not just one transaction). */
export async function applySessionSettings(
  db: SqlRunner,
  settings: SessionSettings,
): Promise<void> {
  // synchronous_commit is left as the database has it (on by default): a page's commit is
  // durable when it returns. Off lost whole runs on PGlite, which has no WAL writer and is often
  // left without a shutdown (the Knex CLI exits without closing it); on a server it saved no
  // measurable time (100k sessions: 15.2 s on, 14.6 s off, means of five).
  // The app's formats are kept before they are pinned, in a statement of their own. What is
  // already kept on this connection (pinned, and not put back since) stays.
  await db.rows(
    `SELECT set_config('statement_timeout', ?, false), set_config('lock_timeout', ?, false),
            set_config('application_name', ?, false),
            ${PINNED_FORMATS.map((format) => `set_config('${format.saved}', ${savedOrCurrent(format)}, false)`).join(', ')}`,
    [String(settings.statementTimeoutMs), String(settings.lockTimeoutMs), settings.applicationName],
  );
  await db.rows(
    `SELECT ${PINNED_FORMATS.map(() => 'set_config(?, ?, false)').join(', ')}`,
    PINNED_FORMATS.flatMap((format) => [format.name, format.pinned]),
  );
}

/**
 * Returns the session to the settings it had before, so the pool gets back the connection the
 * app had: the timeouts and name reset, the date formats as they were (an app's own `SET` too).
 */
export async function resetSessionSettings(db: SqlRunner): Promise<void> {
  await db.rows('RESET statement_timeout');
  await db.rows('RESET lock_timeout');
  await db.rows('RESET application_name');
  for (const format of PINNED_FORMATS) {
    const [row] = await db.rows<{ saved: string | null }>(
      "SELECT nullif(current_setting(?, true), '') AS saved",
      [format.saved],
    );
    if (row?.saved) await db.rows('SELECT set_config(?, ?, false)', [format.name, row.saved]);
    else await db.rows(`RESET ${format.name}`);
  }
  // Last: while a format may still be pinned, the next run must find the app's value kept.
  for (const format of PINNED_FORMATS) await db.rows(`RESET ${format.saved}`);
}

/** Where the app's search_path is kept while a connection resolves names in one schema. */
const SAVED_SEARCH_PATH = 'goal_backfill.app_search_path';

/**
 * Makes the session resolve every unqualified name in `schema` alone (PostgreSQL still looks in
 * pg_catalog first), keeping the app's search_path in a custom setting of its own, as the
 * pinned formats are kept, until {@link restoreSearchPath}. What is already kept stays, so a
 * connection pinned twice still gets the app's value back. The name is quoted by the server,
 * so any spelling the catalog holds works.
 */
export async function pinSearchPath(db: SqlRunner, schema: string): Promise<void> {
  await db.rows(
    `SELECT set_config('${SAVED_SEARCH_PATH}',
                       coalesce(nullif(current_setting('${SAVED_SEARCH_PATH}', true), ''),
                                current_setting('search_path')), false),
            set_config('search_path', quote_ident(?), false)`,
    [schema],
  );
}

/**
 * Gives the session back the search_path it had before {@link pinSearchPath} (the app's
 * knexfile `searchPath`, its own `SET`, a role's default), in one statement; a session with
 * nothing kept is left as it is.
 */
export async function restoreSearchPath(db: SqlRunner): Promise<void> {
  await db.rows(
    `SELECT CASE WHEN saved <> '' THEN set_config('search_path', saved, false) END,
            set_config('${SAVED_SEARCH_PATH}', '', false)
       FROM (SELECT coalesce(current_setting('${SAVED_SEARCH_PATH}', true), '') AS saved) AS kept`,
  );
}

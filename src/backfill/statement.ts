import { APP_TIME_ZONE_SQL, type SqlRunner } from '../db/connection';
import {
  BACKFILL_ORIGIN,
  BACKFILLED_GOAL_STATUS,
  COLUMNS,
  DESCRIPTION_KEY_FUNCTION,
  GOAL_PROVENANCE,
  TABLES,
} from '../names';
import { fingerprintSql } from '../schema/change-tracking';
import { CREATED_GOAL_TABLE, type GoalTableMapping } from '../schema/goal-table';
import {
  type DateKind,
  IS_WALL_CLOCK_COLUMN,
  inReadWindow,
  keyBindings,
  type PageSelection,
  selectPage,
  sessionDateText,
  sessionDateType,
} from './reading';
import {
  type BackfillCounts,
  DEFAULT_CATEGORY,
  emptyCounts,
  type InvalidItemReason,
  JS_TRIM_CHARACTERS,
  SESSION_SKIP_REASONS,
  type SessionSkipReason,
} from './rules';

/** Which sessions one statement covers. */
export type SessionSelection =
  /** Every session at once: the set-based reference the benchmark compares against. */
  | { kind: 'all' }
  /** The sessions of one page (see {@link PageSelection}). */
  | ({ kind: 'page' } & PageSelection)
  /** One session, when a page is retried session by session. */
  | { kind: 'session'; sessionId: string };

/**
 * What the statement does with the goals it derives.
 * - `write`: insert them, skipping any (patient_id, description) that already has a goal;
 * - `count`: insert nothing and count what `write` would insert. Earlier sessions of the first
 *   patient of a page are read as context, so a goal that an earlier page would have created is
 *   counted as a duplicate, exactly as `write` skips it.
 */
export type StatementMode =
  | { kind: 'write'; runId: string | null; createdAt: CreatedAtConversion }
  | { kind: 'count' };

/**
 * How a session's `session_date` becomes its goal's `created_at`, keeping the date the app
 * shows (see {@link readCreatedAtConversion}):
 * - `copy`: both columns are of one kind (two instants, or two wall clocks): copied as it is;
 * - `app_time_zone`: one is `timestamp without time zone` (a wall clock) and the other
 *   `timestamptz` (an instant): converted with `AT TIME ZONE` in the app's time zone
 *   ({@link APP_TIME_ZONE_SQL}), as the app's own connection would convert it.
 */
export type CreatedAtConversion = 'copy' | 'app_time_zone';

/** The kinds of the two dates a goal's `created_at` is made from and stored as. */
export interface DateKinds {
  /** What `therapy_sessions.session_date` is: the cursor is compared in its own type. */
  sessionDate: DateKind;
  /** How it becomes `treatment_goals.created_at`. */
  createdAt: CreatedAtConversion;
}

/**
 * Reads from the catalog what kind of date `therapy_sessions.session_date` is, and whether
 * `treatment_goals.created_at` is of the same kind, which answers the {@link CreatedAtConversion}
 * between them. Never a plain assignment across kinds: it would convert in whatever zone the
 * connection has, not always the app's.
 */
export async function readDateKinds(db: SqlRunner): Promise<DateKinds> {
  const [row] = await db.rows<{ session: boolean | null; goal: boolean | null }>(
    `SELECT ${IS_WALL_CLOCK_COLUMN} AS session, ${IS_WALL_CLOCK_COLUMN} AS goal`,
    [TABLES.sessions, 'session_date', TABLES.goals, 'created_at'],
  );
  const sessionDate: DateKind = row?.session === true ? 'wall_clock' : 'instant';
  // No created_at (an app's table may lack it) needs no conversion.
  const goalIsWallClock = row?.goal ?? null;
  const alike = goalIsWallClock === null || goalIsWallClock === (sessionDate === 'wall_clock');
  return { sessionDate, createdAt: alike ? 'copy' : 'app_time_zone' };
}

export interface GoalStatementOptions {
  /** Also return one decision per session (for debug logging). @default false */
  perSession?: boolean;
  /**
   * Return only `goals_created`, skipping the other counts: the leanest form of the statement,
   * which the benchmark runs over all sessions as the set-based reference. @default false
   */
  insertedOnly?: boolean;
  /**
   * The treatment_goals it writes into: which columns it has and how long their values may be
   * (src/schema/goal-table.ts). @default the table goal-backfill creates
   */
  table?: GoalTableMapping;
}

export interface GoalStatement {
  sql: string;
  bindings: unknown[];
}

const SESSION_COLUMNS = COLUMNS.sessions.map((column) => `s.${column}`).join(', ');

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function reasonCase(checks: readonly string[], reasons: readonly string[]): string {
  const branches = checks.map((check, i) => `WHEN ${check} THEN ${literal(reasons[i] ?? '')}`);
  return `CASE ${branches.join(' ')} END`;
}

/** Per-session checks, in the order of SESSION_SKIP_REASONS. */
const SESSION_SKIP_CASE = reasonCase(
  [
    "p.extracted_notes IS NULL OR jsonb_typeof(p.extracted_notes) = 'null'",
    "jsonb_typeof(p.extracted_notes) <> 'object'",
    "coalesce(jsonb_typeof(p.extracted_notes -> 'action_items'), 'null') = 'null'",
    "jsonb_typeof(p.extracted_notes -> 'action_items') <> 'array'",
    "jsonb_array_length(p.extracted_notes -> 'action_items') = 0",
  ],
  SESSION_SKIP_REASONS,
);

/** The category a valid item's goal gets. */
const CATEGORY_OF_ITEM = (item: string) =>
  `coalesce(nullif(CASE WHEN jsonb_typeof(${item} -> 'category') = 'string'
                        THEN btrim(${item} ->> 'category', params.ws) END, ''),
            params.default_category)`;

/** The per-item checks, each with its reason, in the order of INVALID_ITEM_REASONS. */
const INVALID_ITEM_CHECKS: readonly (readonly [string, InvalidItemReason])[] = [
  ["jsonb_typeof(e.item) <> 'object'", 'not_an_object'],
  ["coalesce(jsonb_typeof(e.item -> 'task'), 'null') = 'null'", 'missing_task'],
  ["jsonb_typeof(e.item -> 'task') <> 'string'", 'task_not_a_string'],
  ["btrim(e.item ->> 'task', params.ws) = ''", 'blank_task'],
  ["char_length(btrim(e.item ->> 'task', params.ws)) > params.description_max", 'task_too_long'],
  [`char_length(${CATEGORY_OF_ITEM('e.item')}) > params.category_max`, 'category_too_long'],
  [
    "jsonb_typeof(e.item -> 'details') = 'string' AND char_length(e.item ->> 'details') > params.details_max",
    'details_too_long',
  ],
];

/** Which column's limit each length check compares with. */
const LIMITED_COLUMN: Partial<Record<InvalidItemReason, keyof GoalTableMapping['maxLength']>> = {
  task_too_long: 'description',
  category_too_long: 'category',
  details_too_long: 'details',
};

/**
 * The CASE that names why an item is invalid. The length checks compare with the limits of the
 * table's columns, so a value that does not fit is counted, never truncated and never a failed
 * session; a column without a limit gets no check, which costs a table this package created
 * nothing.
 */
function invalidItemCase(table: GoalTableMapping): string {
  const checks = INVALID_ITEM_CHECKS.filter(([, reason]) => {
    const column = LIMITED_COLUMN[reason];
    return column === undefined || table.maxLength[column] !== null;
  });
  return reasonCase(
    checks.map(([check]) => check),
    checks.map(([, reason]) => reason),
  );
}

function pageSource(selection: SessionSelection, mode: StatementMode, bindings: unknown[]): string {
  const from = `FROM ${TABLES.sessions} s`;
  switch (selection.kind) {
    case 'all':
      return `SELECT ${SESSION_COLUMNS}, true AS in_page ${from}`;
    case 'session':
      bindings.push(selection.sessionId);
      return `SELECT ${SESSION_COLUMNS}, true AS in_page ${from} WHERE s.id = CAST(? AS uuid)`;
    case 'page': {
      const { cursor, window } = selection;
      const inPage = `(${selectPage(`${SESSION_COLUMNS}, true AS in_page`, selection, bindings)})`;
      if (mode.kind === 'write' || cursor === null) return inPage;
      bindings.push(...keyBindings(cursor));
      const context =
        `(SELECT ${SESSION_COLUMNS}, false AS in_page ${from} WHERE s.patient_id = CAST(? AS uuid) ` +
        `AND (s.session_date, s.id) <= (CAST(? AS ${sessionDateType(selection.sessionDate)}), CAST(? AS uuid)) ` +
        `AND ${inReadWindow('s', window, bindings)})`;
      return `${inPage} UNION ALL ${context}`;
    }
  }
}

/** Whether the table holds a goal for the pair of `f` already: the backfill's dedup rule. */
const GOAL_EXISTS = `EXISTS (
        SELECT 1 FROM ${TABLES.goals} g
        WHERE g.patient_id = f.patient_id
          AND ${DESCRIPTION_KEY_FUNCTION}(g.description) = ${DESCRIPTION_KEY_FUNCTION}(f.description))`;

/**
 * The goals the statement writes, or in counting mode would write: the first occurrence of each
 * pair that has no goal yet, whoever wrote the goals there (duplicates among the app's own
 * included). No unique rule of the table decides it, so the app stays free to enter a goal whose
 * text a patient already has; the check reads the non-unique lookup index.
 */
function writtenCte(mode: StatementMode, table: GoalTableMapping): string {
  if (mode.kind === 'count') {
    return `SELECT f.session_id FROM firsts f WHERE f.in_page AND NOT ${GOAL_EXISTS}`;
  }
  const status = literal(BACKFILLED_GOAL_STATUS);
  const written = (column: keyof GoalTableMapping['has'], value: string) =>
    table.has[column] ? value : 'NULL';
  const fingerprint = fingerprintSql([
    'f.description',
    written('category', 'f.category'),
    written('details', 'f.details'),
    written('status', status),
    written('therapist_id', 'f.therapist_id'),
    written('session_id', 'f.session_id'),
  ]);
  const createdAt =
    mode.createdAt === 'copy' ? 'f.session_date' : 'f.session_date AT TIME ZONE params.app_zone';
  const columns: [string, string][] = [
    ['patient_id', 'f.patient_id'],
    ['therapist_id', 'f.therapist_id'],
    ['session_id', 'f.session_id'],
    ['description', 'f.description'],
    ['category', 'f.category'],
    ['details', 'f.details'],
    ['status', status],
    ['created_at', createdAt],
    ['updated_at', 'now()'],
  ];
  const mapped = columns.filter(
    ([column]) => !(column in table.has) || table.has[column as keyof GoalTableMapping['has']],
  );
  const provenance: [string, string][] = [
    [GOAL_PROVENANCE.origin, literal(BACKFILL_ORIGIN)],
    [GOAL_PROVENANCE.runId, 'params.run_id'],
    [GOAL_PROVENANCE.itemIndex, 'CAST(f.ord - 1 AS integer)'],
    [GOAL_PROVENANCE.backfilledAt, 'now()'],
    [GOAL_PROVENANCE.fingerprint, fingerprint],
  ];
  const all = [...mapped, ...provenance];
  return `INSERT INTO ${TABLES.goals} AS g (${all.map(([column]) => column).join(', ')})
    SELECT ${all.map(([, value]) => value).join(', ')}
    FROM firsts f CROSS JOIN params
    WHERE NOT ${GOAL_EXISTS}
    RETURNING g.session_id`;
}

const PER_SESSION_COLUMN = `,
  (SELECT coalesce(jsonb_agg(jsonb_build_array(p.id, p.skip_reason,
            coalesce(ic.items, 0), coalesce(ic.invalid, 0), coalesce(wc.created, 0))
          ORDER BY p.patient_id, p.session_date, p.id), '[]'::jsonb)
     FROM page p
     LEFT JOIN (SELECT session_id, count(*) AS items,
                       count(*) FILTER (WHERE invalid_reason IS NOT NULL) AS invalid
                  FROM items GROUP BY session_id) ic ON ic.session_id = p.id
     LEFT JOIN (SELECT session_id, count(*) AS created FROM written GROUP BY session_id) wc
       ON wc.session_id = p.id
    WHERE p.in_page) AS per_session`;

/**
 * The final SELECT that returns every count and the last key of the page, its date as
 * {@link sessionDateText} writes a date of `dateKind` (no key for a selection that is no page).
 */
function countsSelect(perSession: boolean, dateKind: DateKind | null): string {
  return `SELECT
    (SELECT count(*) FROM page WHERE in_page)::int AS sessions,
    (SELECT count(*) FROM page WHERE in_page AND skip_reason IS NULL)::int AS sessions_with_action_items,
    (SELECT coalesce(jsonb_object_agg(reason, n), '{}'::jsonb)
       FROM (SELECT skip_reason AS reason, count(*)::int AS n FROM page
              WHERE in_page AND skip_reason IS NOT NULL GROUP BY skip_reason) r) AS sessions_skipped_by_reason,
    (SELECT count(*) FROM items WHERE in_page)::int AS items_seen,
    (SELECT coalesce(jsonb_object_agg(reason, n), '{}'::jsonb)
       FROM (SELECT invalid_reason AS reason, count(*)::int AS n FROM items
              WHERE in_page AND invalid_reason IS NOT NULL GROUP BY invalid_reason) r) AS invalid_by_reason,
    (SELECT count(*) FROM valid WHERE in_page)::int AS valid_items,
    (SELECT count(*) FROM written)::int AS goals_created,
    last.patient_id AS cursor_patient_id,
    last.session_date AS cursor_session_date,
    last.id AS cursor_session_id${perSession ? PER_SESSION_COLUMN : ''}
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (${lastKeySql(dateKind)}) AS last ON true`;
}

/** The key of the page's last session; no row for a selection that is no page. */
function lastKeySql(dateKind: DateKind | null): string {
  if (dateKind === null) {
    return 'SELECT CAST(NULL AS uuid) AS patient_id, CAST(NULL AS text) AS session_date, CAST(NULL AS uuid) AS id';
  }
  return `SELECT p.patient_id, ${sessionDateText('p.session_date', dateKind)} AS session_date, p.id
      FROM page p WHERE p.in_page
     ORDER BY p.patient_id DESC, p.session_date DESC, p.id DESC
     LIMIT 1`;
}

/** The final SELECT of the lean form: only how many goals were inserted. */
const INSERTED_ONLY_SELECT = 'SELECT (SELECT count(*) FROM written)::int AS goals_created';

/**
 * Builds the one statement that applies the backfill rules to a selection of sessions: it
 * classifies every session and item, derives goal rows, keeps the earliest occurrence of each
 * (patient_id, description) by session_date, session id and array position, and either writes
 * them or counts what it would write. It returns a single row of counts (see
 * {@link StatementCountsRow}) and the cursor: the key of the last session it covered.
 */
export function buildGoalStatement(
  selection: SessionSelection,
  mode: StatementMode,
  options: GoalStatementOptions = {},
): GoalStatement {
  const table = options.table ?? CREATED_GOAL_TABLE;
  const bindings: unknown[] = [
    JS_TRIM_CHARACTERS,
    DEFAULT_CATEGORY,
    mode.kind === 'write' ? mode.runId : null,
    table.maxLength.description,
    table.maxLength.category,
    table.maxLength.details,
  ];
  const source = pageSource(selection, mode, bindings);
  const sql = `WITH params AS (
    SELECT CAST(? AS text) AS ws, CAST(? AS text) AS default_category, CAST(? AS uuid) AS run_id,
           ${APP_TIME_ZONE_SQL} AS app_zone,
           CAST(? AS integer) AS description_max, CAST(? AS integer) AS category_max,
           CAST(? AS integer) AS details_max
  ),
  source AS (${source}),
  page AS (
    SELECT p.id, p.patient_id, p.therapist_id, p.session_date, p.in_page,
           ${SESSION_SKIP_CASE} AS skip_reason,
           p.extracted_notes -> 'action_items' AS action_items
      FROM source p
  ),
  items AS (
    SELECT p.id AS session_id, p.patient_id, p.therapist_id, p.session_date, p.in_page,
           e.ord, e.item, ${invalidItemCase(table)} AS invalid_reason
      FROM page p
      CROSS JOIN params
      CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN p.skip_reason IS NULL THEN p.action_items END)
        WITH ORDINALITY AS e(item, ord)
  ),
  valid AS (
    SELECT i.session_id, i.patient_id, i.therapist_id, i.session_date, i.in_page, i.ord,
           btrim(i.item ->> 'task', params.ws) AS description,
           ${CATEGORY_OF_ITEM('i.item')} AS category,
           CASE WHEN jsonb_typeof(i.item -> 'details') = 'string' THEN i.item ->> 'details' END AS details
      FROM items i CROSS JOIN params
     WHERE i.invalid_reason IS NULL
  ),
  firsts AS (
    SELECT DISTINCT ON (v.patient_id, v.description COLLATE "C") v.*
      FROM valid v
     ORDER BY v.patient_id, v.description COLLATE "C", v.session_date, v.session_id, v.ord
  ),
  written AS (${writtenCte(mode, table)})
  ${options.insertedOnly ? INSERTED_ONLY_SELECT : countsSelect(options.perSession ?? false, selection.kind === 'page' ? selection.sessionDate : null)}`;
  return { sql, bindings };
}

/** One session's outcome, returned when `perSession` is set. */
export interface SessionDecision {
  sessionId: string;
  skipReason: SessionSkipReason | null;
  items: number;
  invalid: number;
  goalsCreated: number;
}

/** The row a goal statement returns. */
export interface StatementCountsRow {
  sessions: number;
  sessions_with_action_items: number;
  sessions_skipped_by_reason: Partial<Record<SessionSkipReason, number>>;
  items_seen: number;
  invalid_by_reason: Partial<Record<InvalidItemReason, number>>;
  valid_items: number;
  goals_created: number;
  cursor_patient_id: string | null;
  cursor_session_date: string | null;
  cursor_session_id: string | null;
  per_session?: [string, SessionSkipReason | null, number, number, number][];
}

function sumValues(record: Partial<Record<string, number>>): number {
  return Object.values(record).reduce<number>((total, n) => total + (n ?? 0), 0);
}

/** What a statement read, whether its goals were kept or not. */
function countsRead(row: StatementCountsRow): BackfillCounts {
  return {
    ...emptyCounts(),
    sessionsProcessed: row.sessions,
    sessionsWithActionItems: row.sessions_with_action_items,
    sessionsSkippedByReason: row.sessions_skipped_by_reason,
    itemsSeen: row.items_seen,
  };
}

/** The counts of a statement that succeeded. */
export function countsFromStatement(row: StatementCountsRow): BackfillCounts {
  return {
    ...countsRead(row),
    goalsCreated: row.goals_created,
    duplicatesSkipped: row.valid_items - row.goals_created,
    invalidSkipped: sumValues(row.invalid_by_reason),
    invalidByReason: row.invalid_by_reason,
  };
}

/** The counts of a session whose write failed: read and counted, but nothing of it kept. */
export function countsOfFailedSession(row: StatementCountsRow): BackfillCounts {
  return { ...countsRead(row), errors: 1, itemsInFailedSessions: row.items_seen };
}

import type { Knex } from 'knex';
import { type PinnedConnection, type SqlRunner, sqlRunner, toCount } from '../db/connection';
import { databaseErrorKind, describeErrorSafely } from '../db/failures';
import type { SessionFailure } from '../errors';
import type { GoalTableMapping } from '../schema/goal-table';
import {
  type DateKind,
  type PageSelection,
  readSessionDateKind,
  type SessionKey,
  selectPage,
  sessionDateText,
} from './reading';
import { addCounts, type BackfillCounts, emptyCounts } from './rules';
import {
  buildGoalStatement,
  countsFromStatement,
  countsOfFailedSession,
  type DateKinds,
  readDateKinds,
  type SessionDecision,
  type SessionSelection,
  type StatementCountsRow,
  type StatementMode,
} from './statement';
import { failureStore } from './store';

/** What one page produced. */
export interface PageOutcome {
  counts: BackfillCounts;
  /** The cursor after the page: its last session, or null when there were no sessions left. */
  cursor: SessionKey | null;
  failures: SessionFailure[];
  /** One entry per session, when decisions were asked for and the page was written whole. */
  decisions: SessionDecision[];
  /** Other backends waiting on the page's locks just before it committed (0 for a dry run). */
  lockWaiters: number;
}

/**
 * Which sessions the next page reads, and the treatment_goals their goals go into. The kind of
 * the session date is read for each page (see {@link readDateKinds}).
 */
export interface PageRequest extends Omit<PageSelection, 'sessionDate'> {
  /** The treatment_goals the goals go into, as the run read it at its start. */
  table: GoalTableMapping;
}

/** The next page of a real run, and how its progress is saved. */
export interface PageContext extends PageRequest {
  runId: string;
  perSession: boolean;
  /**
   * Saves the run's progress after this page in the page's transaction, so that the goals and
   * the checkpoint commit together: `pageCounts` are the page's own, `cursor` its last session.
   */
  saveProgress: (db: SqlRunner, pageCounts: BackfillCounts, cursor: SessionKey) => Promise<void>;
}

/** The selection alone, as {@link selectPage} reads it, for a session date of `sessionDate`. */
function pageSelectionOf(page: PageRequest, sessionDate: DateKind): PageSelection {
  const { cursor, limit, window, lane } = page;
  return { cursor, limit, window, lane, sessionDate };
}

async function runStatement(
  db: SqlRunner,
  table: GoalTableMapping,
  selection: SessionSelection,
  mode: StatementMode,
  perSession = false,
): Promise<StatementCountsRow> {
  const { sql, bindings } = buildGoalStatement(selection, mode, { perSession, table });
  const [row] = await db.rows<StatementCountsRow>(sql, bindings);
  if (!row) throw new Error('a goal statement returned no row');
  return row;
}

function cursorOf(row: StatementCountsRow): SessionKey | null {
  if (
    row.cursor_patient_id === null ||
    row.cursor_session_date === null ||
    row.cursor_session_id === null
  ) {
    return null;
  }
  return {
    patientId: row.cursor_patient_id,
    sessionDate: row.cursor_session_date,
    sessionId: row.cursor_session_id,
  };
}

function decisionsOf(row: StatementCountsRow): SessionDecision[] {
  return (row.per_session ?? []).map(([sessionId, skipReason, items, invalid, goalsCreated]) => ({
    sessionId,
    skipReason,
    items,
    invalid,
    goalsCreated,
  }));
}

/** Counts what writing the next page would do, writing nothing. */
export async function countPage(
  db: SqlRunner,
  page: PageRequest,
  perSession: boolean,
): Promise<PageOutcome> {
  const sessionDate = await readSessionDateKind(db);
  const row = await runStatement(
    db,
    page.table,
    { kind: 'page', ...pageSelectionOf(page, sessionDate) },
    { kind: 'count' },
    perSession,
  );
  return {
    counts: countsFromStatement(row),
    cursor: cursorOf(row),
    failures: [],
    decisions: decisionsOf(row),
    lockWaiters: 0,
  };
}

interface SessionRef {
  id: string;
  patient_id: string;
  session_date: string;
}

/** The sessions of the page, one by one: THE page selection, as the page's statement read it. */
async function sessionsOfPage(db: SqlRunner, page: PageSelection): Promise<SessionRef[]> {
  const bindings: unknown[] = [];
  const columns = `s.id, s.patient_id, ${sessionDateText('s.session_date', page.sessionDate)} AS session_date`;
  return db.rows<SessionRef>(selectPage(columns, page, bindings), bindings);
}

/**
 * SQL counting the other backends that wait, right now, on a lock this connection holds: app
 * queries held up by the rows the page wrote or locked. Run inside the page's transaction,
 * just before it commits.
 */
const LOCK_WAITERS_SQL = `SELECT count(*) AS waiters FROM pg_stat_activity
  WHERE pid <> pg_backend_pid() AND pg_backend_pid() = ANY(pg_blocking_pids(pid))`;

/** Counts the backends waiting on this connection's locks (see {@link LOCK_WAITERS_SQL}). */
async function countLockWaiters(db: SqlRunner): Promise<number> {
  const [row] = await db.rows<{ waiters: unknown }>(LOCK_WAITERS_SQL);
  return toCount(row?.waiters);
}

/**
 * Writes one session inside a savepoint of `trx`. If its rows are rejected, the savepoint
 * rolls them back, the failure is recorded in the same transaction, and the session's items
 * are counted as failed.
 */
async function writeOneSession(
  trx: Knex.Transaction,
  table: GoalTableMapping,
  mode: StatementMode & { kind: 'write'; runId: string },
  session: SessionRef,
): Promise<{ counts: BackfillCounts; failure: SessionFailure | null }> {
  const { runId } = mode;
  const selection: SessionSelection = { kind: 'session', sessionId: session.id };
  try {
    const row = await trx.transaction((savepoint) =>
      runStatement(sqlRunner(savepoint), table, selection, mode),
    );
    return { counts: countsFromStatement(row), failure: null };
  } catch (err) {
    if (databaseErrorKind(err) !== 'session') throw err;
    const safe = describeErrorSafely(err);
    const failure: SessionFailure = {
      sessionId: session.id,
      patientId: session.patient_id,
      sqlState: safe.code,
      message: safe.message,
    };
    const db = sqlRunner(trx);
    await failureStore.record(db, runId, failure);
    const row = await runStatement(db, table, selection, { kind: 'count' });
    return { counts: countsOfFailedSession(row), failure };
  }
}

/**
 * Ends a page's transaction: counts the app queries waiting on the page's locks, then saves the
 * run's progress. The count comes first, so that it never sees another worker of the same run
 * waiting on the run record this page is about to update.
 */
async function finishPage(
  trx: Knex.Transaction,
  context: PageContext,
  pageCounts: BackfillCounts,
  cursor: SessionKey | null,
): Promise<number> {
  const db = sqlRunner(trx);
  const lockWaiters = await countLockWaiters(db);
  if (cursor) await context.saveProgress(db, pageCounts, cursor);
  return lockWaiters;
}

async function writePageSessionBySession(
  db: PinnedConnection,
  context: PageContext,
  dates: DateKinds,
): Promise<PageOutcome> {
  const mode = { kind: 'write', runId: context.runId, createdAt: dates.createdAt } as const;
  return db.transaction(async (trx) => {
    const sessions = await sessionsOfPage(
      sqlRunner(trx),
      pageSelectionOf(context, dates.sessionDate),
    );
    let counts = emptyCounts();
    const failures: SessionFailure[] = [];
    for (const session of sessions) {
      const outcome = await writeOneSession(trx, context.table, mode, session);
      counts = addCounts(counts, outcome.counts);
      if (outcome.failure) failures.push(outcome.failure);
    }
    const last = sessions.at(-1);
    const cursor = last
      ? { patientId: last.patient_id, sessionDate: last.session_date, sessionId: last.id }
      : null;
    const lockWaiters = await finishPage(trx, context, counts, cursor);
    return { counts, cursor, failures, decisions: [], lockWaiters };
  });
}

/**
 * Writes the goals of the next page and its checkpoint in one transaction. When the database
 * rejects the page for the data of some session, the page is written again session by
 * session, so that only the sessions that really fail are rolled back and recorded.
 */
export async function writePage(db: PinnedConnection, context: PageContext): Promise<PageOutcome> {
  // Read for each page, from the catalog: a cheap query beside a page, and never out of date.
  const dates = await readDateKinds(db);
  try {
    return await db.transaction(async (trx) => {
      const row = await runStatement(
        sqlRunner(trx),
        context.table,
        { kind: 'page', ...pageSelectionOf(context, dates.sessionDate) },
        { kind: 'write', runId: context.runId, createdAt: dates.createdAt },
        context.perSession,
      );
      const counts = countsFromStatement(row);
      const cursor = cursorOf(row);
      const lockWaiters = await finishPage(trx, context, counts, cursor);
      return { counts, cursor, failures: [], decisions: decisionsOf(row), lockWaiters };
    });
  } catch (err) {
    if (databaseErrorKind(err) !== 'session') throw err;
    return writePageSessionBySession(db, context, dates);
  }
}

import type { SqlRunner } from '../db/connection';
import type { LockHolder, SessionFailure } from '../errors';
import type { Logger } from '../logging';
import type { Invoker, RunStatus } from '../names';
import { COLUMNS, TABLES } from '../names';
import { SESSION_CHANGES } from '../schema/change-tracking';
import {
  countsOfSplit,
  isCapturedPass,
  type LaneSplit,
  lanesAt,
  type PatientLane,
  type ReadPass,
  type SessionKey,
  sessionDateText,
} from './reading';
import { type BackfillCounts, emptyCounts } from './rules';

/** One row of goal_backfill_runs, as the library sees it. */
export interface RunRecord {
  id: string;
  invokedBy: Invoker;
  status: RunStatus;
  runner: string | null;
  batchSize: number;
  /** ISO 8601 in UTC, e.g. `2026-11-24T01:32:46.818Z`, as are the two below. */
  startedAt: string;
  heartbeatAt: string | null;
  finishedAt: string | null;
  resumeCount: number;
  /**
   * The cursor of the current pass when one lane reads it (one worker, and every catch-up pass):
   * the last session it read, or null when it has read none yet or workers read it in lanes.
   */
  checkpoint: SessionKey | null;
  /** The pass the run is in, while it is unfinished. */
  pass: ReadPass | null;
  counts: BackfillCounts;
  elapsedMs: number;
  errorCode: string | null;
  errorMessage: string | null;
}

interface RunRow {
  id: string;
  invoked_by: Invoker;
  status: RunStatus;
  runner: string | null;
  batch_size: number;
  started_at: string;
  heartbeat_at: string | null;
  finished_at: string | null;
  resume_count: number;
  cursor_patient_id: string | null;
  cursor_session_date: string | null;
  cursor_session_id: string | null;
  read_pass: ReadPass | null;
  counts: Partial<BackfillCounts> | null;
  elapsed_ms: string | number;
  error_code: string | null;
  error_message: string | null;
}

/** A timestamptz as ISO 8601 in UTC with milliseconds (`2026-11-24T01:32:46.818Z`). */
function isoUtc(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
}

/** The timestamps of a run, read as {@link isoUtc}; the cursor's session date keeps its microseconds. */
const RUN_TIMES = new Set<string>(['started_at', 'heartbeat_at', 'finished_at']);

/** Every column of goal_backfill_runs, as {@link RunRow} reads it. */
const RUN_COLUMNS = COLUMNS.runs
  .map((column) => {
    if (RUN_TIMES.has(column)) return isoUtc(column);
    // The old-form cursor's date is a timestamptz of ours, whatever the app's session_date is:
    // its UTC text is what a wall clock's cursor reads back as, too.
    return column === 'cursor_session_date'
      ? `${sessionDateText(column, 'instant')} AS ${column}`
      : column;
  })
  .join(', ');

/** The key in the `cursor_*` columns, where versions before lanes kept one reader's. */
function cursorColumnsOf(row: RunRow): SessionKey | null {
  return row.cursor_patient_id !== null &&
    row.cursor_session_date !== null &&
    row.cursor_session_id !== null
    ? {
        patientId: row.cursor_patient_id,
        sessionDate: row.cursor_session_date,
        sessionId: row.cursor_session_id,
      }
    : null;
}

/**
 * The lanes of the run's pass, the one checkpoint form: each lane's cursor and counts,
 * in `read_pass.split`. A pass saved by a version before every pass had lanes kept one
 * reader's key in the `cursor_*` columns and its totals in `counts`: it reads as one lane over
 * every patient, continuing from that key. Null when the run is in no pass.
 */
function splitOfRow(row: RunRow): LaneSplit | null {
  const pass = row.read_pass;
  if (pass === null) return null;
  if (pass.split) return pass.split;
  const [lane] = lanesAt([], emptyCounts);
  return {
    countsBefore: { ...emptyCounts(), ...(row.counts ?? {}) },
    lanes: [{ ...(lane as PatientLane), cursor: cursorColumnsOf(row) }],
  };
}

/** Whether a pass is read as one lane over every patient: what one worker reads. */
function isOneLane(split: LaneSplit): boolean {
  const [lane, ...others] = split.lanes;
  return others.length === 0 && lane !== undefined && lane.from === null && lane.to === null;
}

/**
 * The row as the library shows it. A pass read as one lane over every patient shows as the
 * run's `checkpoint` and a pass without `split`, as it showed before every pass had lanes; a
 * pass split among workers shows its lanes.
 */
function toRecord(row: RunRow): RunRecord {
  const split = splitOfRow(row);
  const oneLane = split !== null && isOneLane(split);
  let pass = row.read_pass;
  if (pass !== null && oneLane) {
    const { split: _lanes, ...window } = pass;
    pass = window;
  }
  return {
    id: row.id,
    invokedBy: row.invoked_by,
    status: row.status,
    runner: row.runner,
    batchSize: row.batch_size,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    finishedAt: row.finished_at,
    resumeCount: row.resume_count,
    checkpoint:
      split === null ? cursorColumnsOf(row) : oneLane ? (split.lanes[0]?.cursor ?? null) : null,
    pass,
    // While a pass is read, its lanes hold what it has counted so far.
    counts: split ? countsOfSplit(split) : { ...emptyCounts(), ...(row.counts ?? {}) },
    elapsedMs: Number(row.elapsed_ms),
    errorCode: row.error_code,
    errorMessage: row.error_message,
  };
}

/** Reads and writes goal_backfill_runs: one row per real run, holding its checkpoint and counts. */
export const runStore = {
  async start(
    db: SqlRunner,
    run: { invokedBy: Invoker; runner: string; batchSize: number },
  ): Promise<RunRecord> {
    const [row] = await db.rows<RunRow>(
      `INSERT INTO ${TABLES.runs} (invoked_by, status, runner, batch_size, counts, heartbeat_at)
       VALUES (?, 'running', ?, ?, CAST(? AS jsonb), now())
       RETURNING ${RUN_COLUMNS}`,
      [run.invokedBy, run.runner, run.batchSize, JSON.stringify(emptyCounts())],
    );
    if (!row) throw new Error('INSERT … RETURNING gave no row');
    return toRecord(row);
  },

  /** The newest run that stopped before finishing and kept its checkpoint. */
  async findResumable(db: SqlRunner): Promise<RunRecord | null> {
    const [row] = await db.rows<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM ${TABLES.runs}
        WHERE status IN ('running', 'interrupted')
        ORDER BY started_at DESC LIMIT 1`,
    );
    return row ? toRecord(row) : null;
  },

  /** Marks every unfinished run abandoned, clearing its checkpoint. Returns how many. */
  async abandonUnfinished(db: SqlRunner): Promise<number> {
    const rows = await db.rows<{ id: string }>(
      `UPDATE ${TABLES.runs}
          SET status = 'abandoned', finished_at = now(), read_pass = NULL,
              cursor_patient_id = NULL, cursor_session_date = NULL, cursor_session_id = NULL
        WHERE status IN ('running', 'interrupted')
        RETURNING id`,
    );
    return rows.length;
  },

  async resume(db: SqlRunner, id: string, runner: string, batchSize: number): Promise<void> {
    await db.rows(
      `UPDATE ${TABLES.runs}
          SET status = 'running', runner = ?, batch_size = ?, resume_count = resume_count + 1,
              heartbeat_at = now(), error_code = NULL, error_message = NULL
        WHERE id = ?`,
      [runner, batchSize, id],
    );
  },

  /**
   * Saves one lane of the run's pass after a page: its cursor, its counts and whether
   * it is done, with the run's totals as its worker counted them (the record's counts are the
   * lanes' sum). Each worker saves only its own lane, so concurrent pages of other lanes never
   * overwrite it.
   */
  async saveLane(
    db: SqlRunner,
    id: string,
    progress: { index: number; lane: PatientLane; counts: BackfillCounts; elapsedMs: number },
  ): Promise<void> {
    await db.rows(
      `UPDATE ${TABLES.runs}
          SET read_pass = jsonb_set(read_pass, ARRAY['split', 'lanes', CAST(? AS text)], CAST(? AS jsonb)),
              counts = CAST(? AS jsonb), elapsed_ms = greatest(elapsed_ms, ?), heartbeat_at = now()
        WHERE id = ?`,
      [
        progress.index,
        JSON.stringify(progress.lane),
        JSON.stringify(progress.counts),
        progress.elapsedMs,
        id,
      ],
    );
  },

  /** The lanes of the run's pass (see {@link splitOfRow}); null when it is in no pass. */
  async splitOf(db: SqlRunner, id: string): Promise<LaneSplit | null> {
    const [row] = await db.rows<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${TABLES.runs} WHERE id = ?`, [
      id,
    ]);
    return row ? splitOfRow(row) : null;
  },

  /** Ends a run that read every session; its checkpoint is cleared so the next run starts over. */
  async finish(
    db: SqlRunner,
    id: string,
    outcome: { counts: BackfillCounts; elapsedMs: number },
  ): Promise<void> {
    await db.rows(
      `UPDATE ${TABLES.runs}
          SET status = ?, counts = CAST(? AS jsonb), elapsed_ms = ?, finished_at = now(),
              heartbeat_at = now(), read_pass = NULL,
              cursor_patient_id = NULL, cursor_session_date = NULL, cursor_session_id = NULL
        WHERE id = ?`,
      [
        outcome.counts.errors > 0 ? 'completed_with_errors' : 'succeeded',
        JSON.stringify(outcome.counts),
        outcome.elapsedMs,
        id,
      ],
    );
  },

  /**
   * Starts a pass: saves it with its lanes, none read yet, and the totals so far. The `cursor_*`
   * columns of an earlier version's pass are cleared: the lanes are the checkpoint.
   */
  async beginPass(db: SqlRunner, id: string, pass: ReadPass & { split: LaneSplit }): Promise<void> {
    await db.rows(
      `UPDATE ${TABLES.runs}
          SET read_pass = CAST(? AS jsonb), counts = CAST(? AS jsonb), heartbeat_at = now(),
              cursor_patient_id = NULL, cursor_session_date = NULL, cursor_session_id = NULL
        WHERE id = ?`,
      [JSON.stringify(pass), JSON.stringify(countsOfSplit(pass.split)), id],
    );
  },

  /**
   * Ends a run whose reads did not add up to what the table holds. Its checkpoint and pass are
   * cleared, so the next run starts over rather than resuming after sessions it missed.
   */
  async unverified(
    db: SqlRunner,
    id: string,
    outcome: { counts: BackfillCounts; elapsedMs: number; code: string; message: string },
  ): Promise<void> {
    await db.rows(
      `UPDATE ${TABLES.runs}
          SET status = 'interrupted', counts = CAST(? AS jsonb), elapsed_ms = ?,
              heartbeat_at = now(), error_code = ?, error_message = ?, read_pass = NULL,
              cursor_patient_id = NULL, cursor_session_date = NULL, cursor_session_id = NULL
        WHERE id = ?`,
      [JSON.stringify(outcome.counts), outcome.elapsedMs, outcome.code, outcome.message, id],
    );
  },

  /** Ends a run early, keeping its checkpoint for the next run to resume from. */
  async interrupt(
    db: SqlRunner,
    id: string,
    reason: { code: string | null; message: string },
  ): Promise<void> {
    await db.rows(
      `UPDATE ${TABLES.runs}
          SET status = 'interrupted', heartbeat_at = now(), error_code = ?, error_message = ?
        WHERE id = ? AND status = 'running'`,
      [reason.code, reason.message, id],
    );
  },

  async recent(db: SqlRunner, limit: number): Promise<RunRecord[]> {
    const rows = await db.rows<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM ${TABLES.runs} ORDER BY started_at DESC LIMIT ?`,
      [limit],
    );
    return rows.map(toRecord);
  },

  async get(db: SqlRunner, id: string): Promise<RunRecord | null> {
    const [row] = await db.rows<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${TABLES.runs} WHERE id = ?`, [
      id,
    ]);
    return row ? toRecord(row) : null;
  },

  /** The run that is working now, if one says so. */
  async findRunning(db: SqlRunner): Promise<RunRecord | null> {
    const [row] = await db.rows<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM ${TABLES.runs}
        WHERE status = 'running' ORDER BY started_at DESC LIMIT 1`,
    );
    return row ? toRecord(row) : null;
  },
};

/** Reads and writes goal_backfill_failures: one row per failed session per run. */
export const failureStore = {
  async record(db: SqlRunner, runId: string, failure: SessionFailure): Promise<void> {
    await db.rows(
      `INSERT INTO ${TABLES.failures} (run_id, session_id, patient_id, sql_state, message)
       VALUES (?, ?, ?, ?, ?)`,
      [runId, failure.sessionId, failure.patientId, failure.sqlState, failure.message],
    );
  },

  async ofRun(db: SqlRunner, runId: string, limit: number): Promise<SessionFailure[]> {
    const rows = await db.rows<{
      session_id: string;
      patient_id: string;
      sql_state: string | null;
      message: string;
    }>(
      `SELECT session_id, patient_id, sql_state, message FROM ${TABLES.failures}
        WHERE run_id = ? ORDER BY id LIMIT ?`,
      [runId, limit],
    );
    return rows.map((row) => ({
      sessionId: row.session_id,
      patientId: row.patient_id,
      sqlState: row.sql_state,
      message: row.message,
    }));
  },
};

/** What goal_backfill_runs says about the run that holds the lock, for a lock error. */
export async function describeLockHolderRun(
  db: SqlRunner,
): Promise<Omit<LockHolder, 'pid' | 'applicationName'>> {
  const run = await runStore.findRunning(db);
  return {
    runId: run?.id ?? null,
    invokedBy: run?.invokedBy ?? null,
    runner: run?.runner ?? null,
    startedAt: run?.startedAt ?? null,
  };
}

/**
 * Opens the run record of a real run: resumes the newest unfinished run that has a checkpoint
 * or a pass (the caller holds the lock, so any such run is orphaned), or, with `fromStart` or
 * when there is none, abandons unfinished runs and starts a new one.
 *
 * A resume needs every session written since that run started to have a change record, so it
 * needs capture to have been on throughout (`canResume`) and a pass saved by this version.
 * Otherwise the run starts over: the goals it wrote stay, and dedup skips them.
 */
export async function startOrResume(
  db: SqlRunner,
  options: {
    logger: Logger;
    fromStart: boolean;
    invokedBy: Invoker;
    runner: string;
    batchSize: number;
  },
  capture: { canResume: boolean },
): Promise<{ run: RunRecord; resumed: boolean }> {
  const { logger } = options;
  const previous = options.fromStart ? null : await runStore.findResumable(db);
  if (previous?.pass && isCapturedPass(previous.pass) && capture.canResume) {
    await runStore.resume(db, previous.id, options.runner, options.batchSize);
    return { run: previous, resumed: true };
  }
  const abandoned = await runStore.abandonUnfinished(db);
  if (abandoned > 0) {
    const reason = options.fromStart ? 'from_start' : previous?.pass ? 'capture_gap' : 'no_page';
    logger.info('backfill.checkpoint_abandoned', { runs: abandoned, reason });
  }
  // Records of an earlier run would take their sessions out of this run's first pass.
  await db.rows(`DELETE FROM ${SESSION_CHANGES.table}`);
  const run = await runStore.start(db, options);
  return { run, resumed: false };
}

/** How many failed sessions a result lists; all of them are in goal_backfill_failures. */
export const MAX_LISTED_FAILURES = 100;

/** What {@link runBackfill} returns. */
export interface BackfillResult extends BackfillCounts {
  /** The goal_backfill_runs row, or null for a dry run. */
  runId: string | null;
  dryRun: boolean;
  /** This run continued an interrupted run; the counts include that run's pages. */
  resumed: boolean;
  /** `completed` read every session; `interrupted` stopped early on the abort signal. */
  outcome: 'completed' | 'interrupted';
  /** Sessions in the table when the run started. */
  totalSessions: number;
  /** Wall time of this invocation. */
  elapsedMs: number;
  /** The first failed sessions, at most {@link MAX_LISTED_FAILURES}. */
  failures: SessionFailure[];
}

import type { SqlRunner } from '../db/connection';
import { TABLES } from '../schema/tables';

/** A session whose goals could not be written. The message is free of row values. */
export interface SessionFailure {
  sessionId: string;
  patientId: string;
  /** The SQLSTATE, or another error code when the failure did not come from PostgreSQL. */
  sqlState: string | null;
  message: string;
}

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

/**
 * A position in the backfill's reading order: (patient_id, session_date, id). Reading each
 * patient's sessions oldest first lets the unique index keep the earliest occurrence of a goal.
 * `sessionDate` is PostgreSQL's own text for the timestamptz, so no precision is lost in
 * JavaScript.
 */
export interface SessionKey {
  patientId: string;
  sessionDate: string;
  sessionId: string;
}

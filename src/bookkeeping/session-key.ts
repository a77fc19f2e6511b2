/**
 * A position in the backfill's reading order: (patient_id, session_date, id). Reading each
 * patient's sessions oldest first lets the unique index keep the earliest occurrence of a goal.
 * `sessionDate` is the exact text {@link sessionDateText} produces, so no precision is lost in
 * JavaScript and no session setting changes what it means.
 */
export interface SessionKey {
  patientId: string;
  sessionDate: string;
  sessionId: string;
}

/**
 * SQL giving the exact text of the timestamptz `expression`: ISO 8601 in UTC with six
 * fractional digits (and ` BC` before year 1), or `infinity` / `-infinity`. Neither DateStyle
 * nor TimeZone changes it, and `CAST(text AS timestamptz)` reads it back to the same instant
 * under any settings, unlike PostgreSQL's own text (`IST` is read back as Israel time).
 */
export function sessionDateText(expression: string): string {
  const iso = `to_char(${expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  return `CASE WHEN NOT isfinite(${expression}) THEN CAST(${expression} AS text)
    WHEN to_char(${expression} AT TIME ZONE 'UTC', 'BC') = 'BC' THEN ${iso} || ' BC'
    ELSE ${iso} END`;
}

/** SQL true when the session `alias` has a place in the reading order (no NULL in its key). */
export function hasSessionKey(alias: string): string {
  return `${alias}.patient_id IS NOT NULL AND ${alias}.session_date IS NOT NULL`;
}

/** SQL comparing the session `alias` with a bound key: three placeholders, in key order. */
export function keyAfter(alias: string): string {
  return `(${alias}.patient_id, ${alias}.session_date, ${alias}.id) > (CAST(? AS uuid), CAST(? AS timestamptz), CAST(? AS uuid))`;
}

/** The bindings of {@link keyAfter}. */
export function keyBindings(key: SessionKey): string[] {
  return [key.patientId, key.sessionDate, key.sessionId];
}

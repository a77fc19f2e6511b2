import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

/** Stands for SQL NULL in extracted_notes, as opposed to the JSON value null. */
export const SQL_NULL = Symbol('SQL NULL');

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

export interface SessionSpec {
  id?: string;
  patientId: string;
  therapistId?: string | null;
  /** An ISO timestamp. */
  sessionDate: string;
  notes: JsonValue | typeof SQL_NULL;
}

export interface InsertedSession extends Required<Omit<SessionSpec, 'therapistId'>> {
  therapistId: string | null;
}

let emailCounter = 0;

/** Inserts users with the given role and returns their ids. */
export async function insertUsers(
  knex: Knex,
  count: number,
  role: 'patient' | 'therapist' = 'patient',
): Promise<string[]> {
  const rows = Array.from({ length: count }, () => {
    emailCounter += 1;
    return {
      id: randomUUID(),
      role,
      full_name: `${role} ${emailCounter}`,
      email: `${role}-${emailCounter}-${randomUUID()}@example.test`,
    };
  });
  for (let i = 0; i < rows.length; i += 1000) {
    await knex('users').insert(rows.slice(i, i + 1000));
  }
  return rows.map((row) => row.id);
}

/** Inserts sessions in batches and returns them with their ids filled in. */
export async function insertSessions(knex: Knex, specs: SessionSpec[]): Promise<InsertedSession[]> {
  const sessions = specs.map((spec) => ({
    ...spec,
    id: spec.id ?? randomUUID(),
    therapistId: spec.therapistId ?? null,
  }));
  const rows = sessions.map((session) => ({
    id: session.id,
    patient_id: session.patientId,
    therapist_id: session.therapistId,
    session_date: session.sessionDate,
    extracted_notes: session.notes === SQL_NULL ? null : JSON.stringify(session.notes),
  }));
  for (let i = 0; i < rows.length; i += 1000) {
    await knex('therapy_sessions').insert(rows.slice(i, i + 1000));
  }
  return sessions;
}

/** A goal as the tests compare them: everything but the generated id and timestamps of the run. */
export interface GoalRow {
  patient_id: string;
  therapist_id: string | null;
  session_id: string | null;
  description: string;
  category: string;
  details: string | null;
  status: string;
  created_at: string;
  origin: string;
  source_item_index: number | null;
}

const utf8 = (column: string) => `encode(convert_to(${column}, 'UTF8'), 'base64') AS ${column}`;
const decode = (base64: string | null) =>
  base64 === null ? null : Buffer.from(base64, 'base64').toString('utf8');

/**
 * All goals, in a stable order. created_at is PostgreSQL's text, to keep microseconds. Text
 * columns travel as base64 of their UTF-8 bytes: PGlite's reader drops a leading U+FEFF, and
 * the tests compare text exactly.
 */
export async function readGoals(knex: Knex): Promise<GoalRow[]> {
  const result = await knex.raw<{ rows: GoalRow[] }>(
    `SELECT patient_id, therapist_id, session_id, ${utf8('description')}, ${utf8('category')},
            ${utf8('details')}, status,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at,
            origin, source_item_index
       FROM treatment_goals ORDER BY patient_id, session_id, source_item_index`,
  );
  return result.rows.map((row) => ({
    ...row,
    description: decode(row.description) ?? '',
    category: decode(row.category) ?? '',
    details: decode(row.details),
  }));
}

/** The number of rows in a table, as a number whichever driver answers. */
export async function countRows(knex: Knex, table: string): Promise<number> {
  const [row] = await knex(table).count({ n: '*' });
  return Number(row?.n);
}

/** Row counts of every table the project owns or reads. */
export async function tableCounts(knex: Knex): Promise<Record<string, number>> {
  const tables = [
    'users',
    'therapy_sessions',
    'treatment_goals',
    'goal_backfill_runs',
    'goal_backfill_failures',
  ];
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const result = await knex.raw<{ rows: { n: string }[] }>(`SELECT count(*) AS n FROM ${table}`);
    counts[table] = Number(result.rows[0]?.n);
  }
  return counts;
}

/** Inserts a goal as a clinician would, through the app. */
export async function insertClinicianGoal(
  knex: Knex,
  goal: { patientId: string; description: string; category?: string },
): Promise<string> {
  const id = randomUUID();
  await knex('treatment_goals').insert({
    id,
    patient_id: goal.patientId,
    description: goal.description,
    category: goal.category ?? 'general',
  });
  return id;
}

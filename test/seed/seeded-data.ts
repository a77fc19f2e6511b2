import type { Knex } from 'knex';
import { queryRows } from '../../src/db/sql-runner';
import { type JsonValue, SQL_NULL } from '../support/fixtures';
import { type ModelSession, pairKey } from '../support/reference-model';

/** Every session, as the reference model takes them; SQL NULL and JSON null notes stay apart. */
export async function readSessionsForModel(knex: Knex): Promise<ModelSession[]> {
  const rows = queryRows<{
    id: string;
    patient_id: string;
    therapist_id: string | null;
    session_date: string;
    notes: JsonValue;
    notes_is_sql_null: boolean;
  }>(
    await knex.raw(
      `SELECT id, patient_id, therapist_id,
              to_char(session_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS session_date,
              extracted_notes AS notes, extracted_notes IS NULL AS notes_is_sql_null
         FROM therapy_sessions ORDER BY id`,
    ),
  );
  return rows.map((row) => ({
    id: row.id,
    patientId: row.patient_id,
    therapistId: row.therapist_id,
    sessionDate: row.session_date,
    notes: row.notes_is_sql_null ? SQL_NULL : row.notes,
  }));
}

/** The (patient, description) pairs of the goals clinicians entered. */
export async function readClinicianPairs(knex: Knex): Promise<Set<string>> {
  const rows = queryRows<{ patient_id: string; description: string }>(
    await knex.raw("SELECT patient_id, description FROM treatment_goals WHERE origin = 'seed'"),
  );
  return new Set(rows.map((row) => pairKey(row.patient_id, row.description)));
}

/**
 * An MD5 of every seeded table's rows in id order, and of the backfilled goals without what a
 * run stamps (ids, run id, write times). Equal digests mean byte-identical data.
 */
export async function seededDigests(knex: Knex): Promise<Record<string, string>> {
  const digest = async (sql: string) => {
    const [row] = queryRows<{ digest: string | null }>(await knex.raw(sql));
    return row?.digest ?? 'empty';
  };
  return {
    users: await digest(
      "SELECT md5(string_agg(u::text, '|' ORDER BY u.id)) AS digest FROM users u",
    ),
    sessions: await digest(
      "SELECT md5(string_agg(s::text, '|' ORDER BY s.id)) AS digest FROM therapy_sessions s",
    ),
    clinicianGoals: await digest(
      `SELECT md5(string_agg(g::text, '|' ORDER BY g.id)) AS digest
         FROM treatment_goals g WHERE origin = 'seed'`,
    ),
    backfilledGoals: await digest(
      `SELECT md5(string_agg(concat_ws(',', patient_id, therapist_id, session_id, description,
                    category, details, status, created_at, source_item_index), '|'
                  ORDER BY patient_id, description)) AS digest
         FROM treatment_goals WHERE origin = 'backfill'`,
    ),
  };
}

/** One count from a query that selects `n`. */
export async function countOf(knex: Knex, sql: string): Promise<number> {
  const [row] = queryRows<{ n: unknown }>(await knex.raw(sql));
  return Number(row?.n ?? 0);
}

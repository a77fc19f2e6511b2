import type { Knex } from 'knex';
import { DEFAULT_CATEGORY, JS_TRIM_CHARACTERS } from '../src/backfill/rules';
import {
  BACKFILL_ORIGIN,
  BACKFILLED_GOAL_STATUS,
  DESCRIPTION_KEY_FUNCTION,
  TABLES,
} from '../src/names';
import { fingerprintSql, GOAL_CHANGE_TRACKING } from '../src/schema/change-tracking';

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * (b) The cheapest single statement found that writes the same goals as the backfill, trim
 * rules, fingerprint and provenance included: it classifies nothing and counts nothing, keeps
 * only the items whose `task` is a string that is not blank once trimmed, keeps the earliest of
 * each (patient, description) with DISTINCT ON, and leaves out the pairs that already have a
 * goal with NOT EXISTS (an anti-join), the backfill's own dedup rule.
 */
export function cheapestStatementSql(): {
  sql: string;
  bindings: string[];
} {
  const status = literal(BACKFILLED_GOAL_STATUS);
  const fingerprint = fingerprintSql([
    'f.description',
    'f.category',
    'f.details',
    status,
    'f.therapist_id',
    'f.session_id',
  ]);
  const notExists = `WHERE NOT EXISTS (SELECT 1 FROM ${TABLES.goals} g
           WHERE g.patient_id = f.patient_id
             AND ${DESCRIPTION_KEY_FUNCTION}(g.description) = ${DESCRIPTION_KEY_FUNCTION}(f.description))`;
  const sql = `INSERT INTO ${TABLES.goals}
      (patient_id, therapist_id, session_id, description, category, details, status,
       created_at, updated_at, origin, source_item_index, backfilled_at,
       ${GOAL_CHANGE_TRACKING.fingerprintColumn})
    SELECT f.patient_id, f.therapist_id, f.session_id, f.description, f.category, f.details,
           ${status}, f.session_date, now(), ${literal(BACKFILL_ORIGIN)}, f.ord, now(), ${fingerprint}
      FROM (
        SELECT DISTINCT ON (s.patient_id, t.description COLLATE "C")
               s.patient_id, s.therapist_id, s.id AS session_id, s.session_date,
               CAST(e.ord - 1 AS integer) AS ord, t.description,
               coalesce(nullif(CASE WHEN jsonb_typeof(e.item -> 'category') = 'string'
                                    THEN btrim(e.item ->> 'category', CAST(? AS text)) END, ''),
                        CAST(? AS text)) AS category,
               CASE WHEN jsonb_typeof(e.item -> 'details') = 'string'
                    THEN e.item ->> 'details' END AS details
          FROM ${TABLES.sessions} s
          CROSS JOIN LATERAL jsonb_array_elements(
            CASE WHEN jsonb_typeof(s.extracted_notes -> 'action_items') = 'array'
                 THEN s.extracted_notes -> 'action_items' END) WITH ORDINALITY AS e(item, ord)
          CROSS JOIN LATERAL (SELECT btrim(e.item ->> 'task', CAST(? AS text)) AS description) t
         WHERE jsonb_typeof(e.item -> 'task') = 'string' AND t.description <> ''
           AND s.patient_id IS NOT NULL AND s.session_date IS NOT NULL
         ORDER BY s.patient_id, t.description COLLATE "C", s.session_date, s.id, e.ord
      ) f
    ${notExists}`;
  return { sql, bindings: [JS_TRIM_CHARACTERS, DEFAULT_CATEGORY, JS_TRIM_CHARACTERS] };
}

/** Runs the cheapest statement over every session; returns how many goals it wrote. */
export async function runCheapestStatement(
  knex: Knex,
): Promise<{ goalsCreated: number; elapsedMs: number }> {
  const { sql, bindings } = cheapestStatementSql();
  const startedAt = performance.now();
  const result = await knex.raw(sql, bindings);
  return { goalsCreated: Number(result.rowCount), elapsedMs: performance.now() - startedAt };
}

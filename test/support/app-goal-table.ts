import type { Knex } from 'knex';
import { queryRows } from '../../src/db/sql-runner';

/**
 * An app's own treatment_goals, as a team that shipped goal tracking before the backfill has it:
 * a bigserial key, varchar columns with limits, an enum status, an extra `target_date`, an index
 * and an updated_at trigger of its own, and foreign keys to users and therapy_sessions. One
 * statement per element (PGlite takes one at a time).
 */
export const APP_GOAL_TABLE = [
  `CREATE TYPE goal_status AS ENUM ('assigned', 'in_progress', 'completed', 'abandoned')`,
  `CREATE TABLE treatment_goals (
     id bigserial PRIMARY KEY,
     patient_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     therapist_id uuid REFERENCES users (id),
     session_id uuid REFERENCES therapy_sessions (id) ON DELETE SET NULL,
     description varchar(40) NOT NULL,
     category varchar(12) NOT NULL DEFAULT 'general',
     details varchar(30),
     status goal_status NOT NULL DEFAULT 'assigned',
     target_date date,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  'CREATE INDEX treatment_goals_patient_status_idx ON treatment_goals (patient_id, status)',
  `CREATE FUNCTION app_touch_goal() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN NEW.updated_at := now(); RETURN NEW; END $$`,
  `CREATE TRIGGER treatment_goals_touch BEFORE UPDATE ON treatment_goals
     FOR EACH ROW EXECUTE FUNCTION app_touch_goal()`,
  `COMMENT ON TABLE treatment_goals IS 'Goals clinicians set with their patients'`,
] as const;

/** Creates {@link APP_GOAL_TABLE}; users and therapy_sessions must exist. */
export async function createAppGoalTable(knex: Knex): Promise<void> {
  for (const statement of APP_GOAL_TABLE) await knex.raw(statement);
}

/** A goal as the app inserts it: only the app's columns, the rest from its defaults. */
export interface AppGoal {
  patientId: string;
  description: string;
  status?: string;
  targetDate?: string | null;
}

/** Inserts goals through the app's own columns and returns their ids. */
export async function insertAppGoals(knex: Knex, goals: AppGoal[]): Promise<string[]> {
  const rows = await knex('treatment_goals')
    .insert(
      goals.map((goal) => ({
        patient_id: goal.patientId,
        description: goal.description,
        status: goal.status ?? 'assigned',
        target_date: goal.targetDate ?? null,
      })),
    )
    .returning('id');
  return rows.map((row: { id: unknown }) => String(row.id));
}

/** The goal rows of `ids`, every app column included, in id order. */
export async function appGoalRows(knex: Knex, ids: string[]): Promise<Record<string, unknown>[]> {
  return queryRows(
    await knex.raw(
      `SELECT CAST(id AS text) AS id, patient_id, therapist_id, session_id, description, category,
              details, CAST(status AS text) AS status, CAST(target_date AS text) AS target_date,
              CAST(created_at AS text) AS created_at, CAST(updated_at AS text) AS updated_at
         FROM treatment_goals WHERE CAST(id AS text) = ANY(?) ORDER BY id`,
      [ids],
    ),
  );
}

/** A table's definition as the catalogs hold it: columns, constraints, indexes, triggers, comments. */
export interface TableDefinition {
  columns: string[];
  constraints: string[];
  indexes: string[];
  triggers: string[];
  comment: string | null;
}

/** Reads `table`'s definition from the catalogs, each part sorted, for comparing before and after. */
export async function tableDefinition(knex: Knex, table: string): Promise<TableDefinition> {
  const rows = async (sql: string) =>
    queryRows<{ line: string }>(await knex.raw(sql, [table])).map((row) => row.line);
  const columns = await rows(
    `SELECT concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod),
                      CASE WHEN a.attnotnull THEN 'NOT NULL' END,
                      'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid),
                      'COMMENT ' || col_description(a.attrelid, a.attnum)) AS line
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
  );
  const constraints = await rows(
    `SELECT conname || ' ' || pg_get_constraintdef(oid) AS line FROM pg_constraint
      WHERE conrelid = to_regclass(?) ORDER BY 1`,
  );
  const indexes = await rows(
    `SELECT concat_ws(' ', pg_get_indexdef(indexrelid), CASE WHEN NOT indisvalid THEN 'INVALID' END,
                      'COMMENT ' || obj_description(indexrelid, 'pg_class')) AS line
       FROM pg_index WHERE indrelid = to_regclass(?) ORDER BY 1`,
  );
  const triggers = await rows(
    `SELECT concat_ws(' ', pg_get_triggerdef(oid), 'COMMENT ' || obj_description(oid, 'pg_trigger')) AS line
       FROM pg_trigger WHERE tgrelid = to_regclass(?) AND NOT tgisinternal ORDER BY 1`,
  );
  const [comment] = await rows(`SELECT obj_description(to_regclass(?), 'pg_class') AS line`);
  // Sorted here, not by the database's collation, to compare with lists built in JavaScript.
  return {
    columns,
    constraints: constraints.sort(),
    indexes: indexes.sort(),
    triggers: triggers.sort(),
    comment: comment ?? null,
  };
}

const MARK = 'COMMENT goal-backfill: created by this package; dropped by its rollback';

/**
 * The definition of an app's treatment_goals once goal-backfill adopted it: the app's own, plus
 * the marked provenance columns, the lookup index of the dedup check, the touch trigger and the
 * insert-time baseline trigger.
 */
export function adoptedDefinition(before: TableDefinition): TableDefinition {
  const columns = [
    'origin text',
    'backfill_run_id uuid',
    'source_item_index integer',
    'backfilled_at timestamp with time zone',
    'clinician_touched_at timestamp with time zone',
    'backfill_fingerprint bigint',
  ];
  return {
    ...before,
    columns: [...before.columns, ...columns.map((column) => `${column} ${MARK}`)],
    indexes: [
      ...before.indexes,
      `CREATE INDEX treatment_goals_patient_description_idx ON public.treatment_goals USING btree (patient_id, goal_description_key((description)::text)) ${MARK}`,
    ].sort(),
    triggers: [
      ...before.triggers,
      `CREATE TRIGGER treatment_goals_mark_touched BEFORE UPDATE ON public.treatment_goals FOR EACH ROW WHEN ((old.origin = 'backfill'::text)) EXECUTE FUNCTION goal_mark_touched() ${MARK}`,
      // Its condition reads this package's origin alone: no dependency on the app's columns.
      `CREATE TRIGGER zz_treatment_goals_backfill_baseline BEFORE INSERT ON public.treatment_goals FOR EACH ROW WHEN ((new.origin = 'backfill'::text)) EXECUTE FUNCTION goal_backfill_baseline() ${MARK}`,
    ].sort(),
  };
}

/** The functions and tables of this package that exist now, by name. */
export async function packageObjects(knex: Knex): Promise<string[]> {
  return queryRows<{ name: string }>(
    await knex.raw(
      `SELECT proname AS name FROM pg_proc
        WHERE pronamespace = CAST(current_schema() AS regnamespace)
          AND proname IN ('goal_description_key', 'goal_clinical_fingerprint', 'goal_mark_touched',
                          'goal_backfill_baseline', 'goal_backfill_capture_session_change')
       UNION ALL
       SELECT relname FROM pg_class
        WHERE relnamespace = CAST(current_schema() AS regnamespace)
          AND (relname LIKE 'goal\\_backfill\\_%' OR relname = 'therapy_sessions_patient_date_id_idx')
          AND relname <> 'goal_backfill_migrations' AND relname NOT LIKE 'goal\\_backfill\\_migrations%'
       ORDER BY 1`,
    ),
  ).map((row) => row.name);
}

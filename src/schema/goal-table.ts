import type { Knex } from 'knex';
import { sqlStateOf } from '../db/failures';
import { type SqlRunner, sqlRunner } from '../db/sql-runner';
import type { AppSchemaProblem } from '../errors';
import { BACKFILLED_GOAL_STATUS, GOAL_PROVENANCE, TABLES } from '../names';
import { OWNERSHIP_MARK, type RelationOwnership } from './lock-safe-ddl';

/**
 * The shape of treatment_goals, whoever made it: the app (then this package adopts it) or this
 * package. The backfill writes the columns the table has, and nothing else of the app's.
 */

/** The columns the backfill writes when the table has them; `patient_id` and `description` it always needs. */
export const OPTIONAL_GOAL_COLUMNS = [
  'therapist_id',
  'session_id',
  'category',
  'details',
  'status',
  'created_at',
  'updated_at',
] as const;
export type OptionalGoalColumn = (typeof OPTIONAL_GOAL_COLUMNS)[number];

const TEXT_TYPES = ['text', 'character varying'];
const TIME_TYPES = ['timestamp with time zone', 'timestamp without time zone'];

/** The types the backfill writes each column as: a value of the type, or of a domain over it. */
const MAPPED_COLUMN_TYPES: Readonly<Record<string, readonly string[]>> = {
  patient_id: ['uuid'],
  description: TEXT_TYPES,
  therapist_id: ['uuid'],
  session_id: ['uuid'],
  category: TEXT_TYPES,
  details: TEXT_TYPES,
  status: TEXT_TYPES,
  created_at: TIME_TYPES,
  updated_at: TIME_TYPES,
};

/** Mapped columns the backfill leaves NULL for some goals (no therapist, no details). */
const SOMETIMES_NULL: Readonly<Record<string, string>> = {
  therapist_id: 'a session has no therapist',
  details: 'an item has no details',
};

const PROVENANCE_TYPES: Readonly<Record<keyof typeof GOAL_PROVENANCE, string>> = {
  origin: 'text',
  runId: 'uuid',
  itemIndex: 'integer',
  backfilledAt: 'timestamp with time zone',
  touchedAt: 'timestamp with time zone',
  fingerprint: 'bigint',
};

/**
 * The provenance the backfill adds to treatment_goals, as nullable columns without defaults (a
 * change of the catalog only, whatever the table's size), each marked as this package's. Goals
 * the app writes leave them NULL. Their names and order are those of {@link GOAL_PROVENANCE}.
 */
export const PROVENANCE_COLUMNS = (
  Object.keys(GOAL_PROVENANCE) as (keyof typeof GOAL_PROVENANCE)[]
).map((key) => ({ name: GOAL_PROVENANCE[key], type: PROVENANCE_TYPES[key] }));

/** One column of treatment_goals as the catalog has it. */
export interface GoalColumnFacts {
  name: string;
  /** `format_type`: what the app declared, e.g. `character varying(80)` or a domain's name. */
  type: string;
  /** The type under a domain (the type itself otherwise), without its length. */
  baseType: string;
  /** 'e' for an enum, 'd' for a domain, 'b' for a base type… (pg_type.typtype). */
  kind: string;
  /** The most characters a value may have (varchar(n), also under a domain); null for no limit. */
  maxLength: number | null;
  notNull: boolean;
  /** A default, an identity or a generated value: an INSERT that leaves it out is filled. */
  filled: boolean;
  /** Carries this package's mark: it added the column. */
  marked: boolean;
}

/** treatment_goals as the catalog has it, or null when there is none. */
export interface GoalTableFacts {
  columns: Map<string, GoalColumnFacts>;
  /** The columns of the primary key, in order; empty without one. */
  primaryKey: string[];
}

/** Reads the columns and primary key of treatment_goals from the catalog (no lock is taken). */
export async function readGoalTableFacts(db: SqlRunner): Promise<GoalTableFacts | null> {
  const rows = await db.rows<{
    name: string;
    type: string;
    base_type: string;
    kind: string;
    max_length: number | null;
    not_null: boolean;
    filled: boolean;
    comment: string | null;
    key_position: number | null;
  }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            format_type(b.oid, NULL) AS base_type, t.typtype AS kind,
            CASE WHEN b.oid IN (CAST('varchar' AS regtype), CAST('bpchar' AS regtype))
                  AND (CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END) > 4
                 THEN (CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END) - 4 END
              AS max_length,
            a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS not_null,
            a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> ''
              OR (t.typtype = 'd' AND t.typdefault IS NOT NULL) AS filled,
            col_description(a.attrelid, a.attnum) AS comment,
            array_position(pk.conkey, a.attnum) AS key_position
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
       LEFT JOIN pg_constraint pk ON pk.conrelid = a.attrelid AND pk.contype = 'p'
      WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [TABLES.goals],
  );
  if (rows.length === 0) return null;
  const columns = new Map<string, GoalColumnFacts>();
  for (const row of rows) {
    columns.set(row.name, {
      name: row.name,
      type: row.type,
      baseType: row.base_type,
      kind: row.kind,
      maxLength: row.max_length === null ? null : Number(row.max_length),
      notNull: row.not_null,
      filled: row.filled,
      marked: row.comment === OWNERSHIP_MARK,
    });
  }
  const primaryKey = rows
    .filter((row) => row.key_position !== null)
    .sort((a, b) => Number(a.key_position) - Number(b.key_position))
    .map((row) => row.name);
  return { columns, primaryKey };
}

/** How the backfill, the rollback and the counts read and write this table. */
export interface GoalTableMapping {
  /** Which optional columns the table has: the backfill writes those, and only those. */
  has: Readonly<Record<OptionalGoalColumn, boolean>>;
  /** The most characters a description, category or details may have; null for no limit. */
  maxLength: Readonly<Record<'description' | 'category' | 'details', number | null>>;
  /** The single-column primary key, which the rollback walks in batches. */
  key: { column: string; type: string };
  /**
   * True when `updated_at` is a `timestamp without time zone`: it holds the app's wall clock,
   * and the unchanged rule compares it with `backfilled_at` read in the app's zone.
   */
  updatedAtIsWallClock: boolean;
}

/** The mapping of the treatment_goals this package creates: every column, no length limit. */
export const CREATED_GOAL_TABLE: GoalTableMapping = {
  has: Object.fromEntries(OPTIONAL_GOAL_COLUMNS.map((name) => [name, true])) as Record<
    OptionalGoalColumn,
    boolean
  >,
  maxLength: { description: null, category: null, details: null },
  key: { column: 'id', type: 'uuid' },
  updatedAtIsWallClock: false,
};

/** The mapping of a table that {@link goalTableProblems} accepted. */
export function goalTableMapping(facts: GoalTableFacts): GoalTableMapping {
  const { columns } = facts;
  const has = Object.fromEntries(
    OPTIONAL_GOAL_COLUMNS.map((name) => [name, columns.has(name)]),
  ) as Record<OptionalGoalColumn, boolean>;
  const limit = (name: string) => columns.get(name)?.maxLength ?? null;
  const keyColumn = facts.primaryKey[0] ?? 'id';
  return {
    has,
    maxLength: {
      description: limit('description'),
      category: limit('category'),
      details: limit('details'),
    },
    key: { column: keyColumn, type: columns.get(keyColumn)?.type ?? 'uuid' },
    updatedAtIsWallClock: columns.get('updated_at')?.baseType === 'timestamp without time zone',
  };
}

/** Reads the mapping of treatment_goals, for a run, a rollback or a count. */
export async function readGoalTableMapping(db: SqlRunner): Promise<GoalTableMapping> {
  const facts = await readGoalTableFacts(db);
  if (!facts) return goalTableMapping({ columns: new Map(), primaryKey: [] });
  return goalTableMapping(facts);
}

function problem(column: string, text: string): AppSchemaProblem {
  return { table: TABLES.goals, column, problem: text };
}

/** Whether 'assigned' can be stored in `status`; the reason when not. */
async function statusProblem(
  knex: Knex,
  status: GoalColumnFacts,
): Promise<AppSchemaProblem | null> {
  const refuses = problem(
    'status',
    `is ${status.type}, which cannot hold '${BACKFILLED_GOAL_STATUS}', the status of every backfilled goal`,
  );
  if (status.maxLength !== null && status.maxLength < BACKFILLED_GOAL_STATUS.length) return refuses;
  // An enum without the label, or a domain whose CHECK refuses it, fails the cast. It runs in a
  // transaction (a savepoint inside one), which a failure rolls back, and reads nothing.
  try {
    await knex.transaction((trx) =>
      trx.raw(`SELECT CAST(CAST(? AS text) AS ${status.type})`, [BACKFILLED_GOAL_STATUS]),
    );
  } catch (err) {
    const state = sqlStateOf(err) ?? '';
    if (state.startsWith('22') || state.startsWith('23')) return refuses;
    throw err;
  }
  // The table's CHECK constraints on status alone, evaluated on a row whose status is 'assigned'.
  const checks = await sqlRunner(knex).rows<{ expr: string }>(
    `SELECT pg_get_expr(c.conbin, c.conrelid) AS expr FROM pg_constraint c
      WHERE c.conrelid = to_regclass(?) AND c.contype = 'c'
        AND c.conkey = ARRAY[(SELECT attnum FROM pg_attribute
                               WHERE attrelid = c.conrelid AND attname = 'status')]`,
    [TABLES.goals],
  );
  for (const { expr } of checks) {
    const [row] = await sqlRunner(knex).rows<{ ok: boolean }>(
      `SELECT (${expr}) IS NOT FALSE AS ok
         FROM (SELECT CAST(CAST(? AS text) AS ${status.type}) AS status) AS ${TABLES.goals}`,
      [BACKFILLED_GOAL_STATUS],
    );
    if (!row?.ok) {
      return problem('status', `has a CHECK that refuses '${BACKFILLED_GOAL_STATUS}'`);
    }
  }
  return null;
}

/**
 * What keeps the backfill from writing into treatment_goals as it is, every problem at once,
 * each naming its column; empty when it can. Reads the catalog only. `ownership` says who made
 * the table: one this package created, by this version or an earlier one, is its own in every
 * column.
 */
export async function goalTableProblems(
  knex: Knex,
  facts: GoalTableFacts,
  ownership: RelationOwnership,
): Promise<AppSchemaProblem[]> {
  const problems: AppSchemaProblem[] = [];
  const { columns } = facts;
  for (const [name, types] of Object.entries(MAPPED_COLUMN_TYPES)) {
    const column = columns.get(name);
    const wanted = types.join(' or ');
    if (!column) {
      if (name === 'patient_id' || name === 'description') {
        problems.push(problem(name, `is missing; the backfill needs it as ${wanted}`));
      }
      continue;
    }
    const enumStatus = name === 'status' && column.kind === 'e';
    if (!enumStatus && !types.includes(column.baseType)) {
      problems.push(problem(name, `is ${column.type}; the backfill writes it as ${wanted}`));
      continue;
    }
    const why = SOMETIMES_NULL[name];
    if (why && column.notNull) {
      problems.push(
        problem(name, `is NOT NULL, but the backfill leaves it NULL where ${why}: allow NULL`),
      );
    }
    if (name === 'status') {
      const refused = await statusProblem(knex, column);
      if (refused) problems.push(refused);
    }
  }
  const provenance = new Set<string>(PROVENANCE_COLUMNS.map((column) => column.name));
  for (const column of columns.values()) {
    if (provenance.has(column.name)) {
      if (ownership !== 'ours' && !column.marked) {
        problems.push(
          problem(
            column.name,
            'is a column of the app; goal-backfill adds a column of that name to record provenance: rename it',
          ),
        );
      }
    } else if (!(column.name in MAPPED_COLUMN_TYPES) && column.notNull && !column.filled) {
      problems.push(
        problem(
          column.name,
          'is NOT NULL without a default, and the backfill has no value for it: give it a default or allow NULL',
        ),
      );
    }
  }
  if (facts.primaryKey.length !== 1) {
    problems.push(
      problem(
        '(primary key)',
        'is missing or spans several columns; the rollback deletes backfilled goals in batches by a single-column primary key',
      ),
    );
  }
  return problems;
}

import type { SqlRunner } from '../db/sql-runner';
import {
  AppSchemaIncompatibleError,
  type AppSchemaProblem,
} from '../errors/app-schema-incompatible-error';
import { APP_COLUMN_REQUIREMENTS } from './app-tables';

interface ColumnFacts {
  table_name: string;
  column_name: string;
  data_type: string | null;
  is_unique: boolean;
}

/**
 * Throws {@link AppSchemaIncompatibleError}, naming every table and column at once, when an
 * existing `users` or `therapy_sessions` lacks a column the backfill needs, has it with another
 * type, or (for `id`) without a primary key or unique constraint of its own. Missing tables are
 * not problems: the chain creates them. It reads the catalog only.
 */
export async function assertAppSchemaCompatible(db: SqlRunner): Promise<void> {
  const facts = await db.rows<ColumnFacts>(
    `SELECT r.table_name, r.column_name, format_type(a.atttypid, a.atttypmod) AS data_type,
            EXISTS (SELECT 1 FROM pg_index i
                     WHERE i.indrelid = a.attrelid AND i.indisunique AND i.indpred IS NULL
                       AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum) AS is_unique
       FROM unnest(CAST(? AS text[]), CAST(? AS text[])) AS r(table_name, column_name)
       JOIN pg_attribute a
         ON a.attrelid = to_regclass(r.table_name) AND a.attname = r.column_name
        AND NOT a.attisdropped`,
    [APP_COLUMN_REQUIREMENTS.map((r) => r.table), APP_COLUMN_REQUIREMENTS.map((r) => r.column)],
  );
  const [present] = await db.rows<{ tables: string[] }>(
    `SELECT coalesce(array_agg(t), '{}') AS tables
       FROM unnest(CAST(? AS text[])) AS t WHERE to_regclass(t) IS NOT NULL`,
    [[...new Set(APP_COLUMN_REQUIREMENTS.map((r) => r.table))]],
  );
  const existingTables = new Set(present?.tables ?? []);

  const problems: AppSchemaProblem[] = [];
  for (const requirement of APP_COLUMN_REQUIREMENTS) {
    const { table, column, types, unique } = requirement;
    if (!existingTables.has(table)) continue;
    const fact = facts.find((f) => f.table_name === table && f.column_name === column);
    const wanted = types.join(' or ');
    if (!fact) {
      problems.push({ table, column, problem: `is missing; the backfill needs it as ${wanted}` });
    } else if (!(types as readonly string[]).includes(fact.data_type ?? '')) {
      problems.push({
        table,
        column,
        problem: `is ${fact.data_type}; the backfill needs ${wanted}`,
      });
    } else if (unique && !fact.is_unique) {
      problems.push({
        table,
        column,
        problem: 'has no primary key or unique constraint; treatment_goals references it',
      });
    }
  }
  if (problems.length > 0) throw new AppSchemaIncompatibleError(problems);
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { queryRows } from '../../src/db/sql-runner';

const SQL_FILE = path.join(__dirname, '..', '..', 'docs', 'sql', 'verify-backfill.sql');

/**
 * Runs every query of docs/sql/verify-backfill.sql and returns, for each "expect 0" check, its
 * title and the values of its first row: all of them 0 on a healthy backfill.
 */
export async function verifyChecks(knex: Knex): Promise<{ title: string; values: number[] }[]> {
  const chunks = verifyQueries();
  const checks: { title: string; values: number[] }[] = [];
  for (const chunk of chunks) {
    const title = chunk.split('\n')[0] ?? '';
    const [row] = queryRows<object>(await knex.raw(chunk.trim().replace(/;\s*$/, '')));
    if (title.includes('Expect 0')) {
      checks.push({ title, values: Object.values(row ?? {}).map(Number) });
    }
  }
  return checks;
}

/** The queries of docs/sql/verify-backfill.sql, each with the comment that opens it. */
function verifyQueries(): string[] {
  return readFileSync(SQL_FILE, 'utf8')
    .split(/\n(?=-- \d+\. )/)
    .slice(1);
}

/** The first row of query `number` (1, 2, …) of docs/sql/verify-backfill.sql, run on `knex`. */
export async function verifyQueryRow(knex: Knex, number: number): Promise<Record<string, unknown>> {
  const chunk = verifyQueries()[number - 1] ?? '';
  const [row] = queryRows<Record<string, unknown>>(
    await knex.raw(chunk.trim().replace(/;\s*$/, '')),
  );
  return row ?? {};
}

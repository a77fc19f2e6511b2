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
  const chunks = readFileSync(SQL_FILE, 'utf8')
    .split(/\n(?=-- \d+\. )/)
    .slice(1);
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

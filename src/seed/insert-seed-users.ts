import { toCount } from '../db/query-rows';
import type { SqlRunner } from '../db/sql-runner';
import { TABLES } from '../schema/tables';
import { hashOf, seededUuid } from './deterministic-sql';
import { type GeneratorInput, generatorParamsCte } from './generator-params';
import { pickTextFromPool } from './pool-sql';

/** How many users of each role were inserted. */
export interface InsertedUsers {
  therapists: number;
  patients: number;
}

/**
 * One role's people: names from the pools, an email that is unique because it carries the
 * person's number, and an account older than the seeded year. Therapists hash even keys and
 * patients odd ones, so therapist 1 and patient 1 get different names.
 */
function people(role: 'therapist' | 'patient'): string {
  const key = role === 'therapist' ? 'u.no * 2' : 'u.no * 2 + 1';
  const count = role === 'therapist' ? 'params.therapists' : 'params.patients';
  const suffix =
    role === 'therapist'
      ? `', ' || ${pickTextFromPool('credentials', hashOf(key, 'credential'))}`
      : "''";
  const domain =
    role === 'therapist'
      ? 'params.therapist_domain'
      : pickTextFromPool('patient_domains', hashOf(key, 'emailDomain'));
  const joinedDaysAgo =
    role === 'therapist'
      ? `200 + ${hashOf(key, 'joinedDaysAgo')} % 1500`
      : `1 + ${hashOf(key, 'joinedDaysAgo')} % 180`;
  return `SELECT '${role}' AS role, u.no, ${seededUuid(role, 'u.no')} AS id,
           ${pickTextFromPool('first_names', hashOf(key, 'firstName'))} AS first_name,
           ${pickTextFromPool('last_names', hashOf(key, 'lastName'))} AS last_name,
           ${suffix} AS suffix, ${domain} AS domain,
           params.year_start - ((${joinedDaysAgo}) * 1440 - 480
             - ${hashOf(key, 'joinedMinute')} % 600) * interval '1 minute' AS created_at
      FROM params CROSS JOIN generate_series(1, ${count}) AS u(no)`;
}

/** Inserts the therapists and patients of the plan in one statement, and counts them. */
export async function insertSeedUsers(
  db: SqlRunner,
  input: GeneratorInput,
): Promise<InsertedUsers> {
  const params = generatorParamsCte(input);
  const sql = `WITH ${params.sql},
  inserted AS (
    INSERT INTO ${TABLES.users} (id, role, full_name, email, created_at)
    SELECT p.id, p.role, p.first_name || ' ' || p.last_name || p.suffix,
           lower(regexp_replace(p.first_name || '.' || p.last_name, '[^A-Za-z.]', '', 'g'))
             || '.' || p.no || '@' || p.domain,
           p.created_at
      FROM (${people('therapist')} UNION ALL ${people('patient')}) AS p
    RETURNING role
  )
  SELECT count(*) FILTER (WHERE role = 'therapist') AS therapists,
         count(*) FILTER (WHERE role = 'patient') AS patients
    FROM inserted`;
  const [row] = await db.rows<{ therapists: unknown; patients: unknown }>(sql, params.bindings);
  return { therapists: toCount(row?.therapists), patients: toCount(row?.patients) };
}

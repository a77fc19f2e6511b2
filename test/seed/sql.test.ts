import { describe, expect, it } from 'vitest';
import { sqlRunner } from '../../src/db/sql-runner';
import { planPopulation, SESSION_SHAPES } from '../../src/seed/mix';
import { buildSeedPools } from '../../src/seed/pools';
import {
  caseByNumber,
  type GeneratorInput,
  generatorParamsCte,
  HASH_STREAMS,
  hashOf,
  numberOf,
  PATIENTS_CTE,
  PLANNED_SESSIONS_CTE,
  patientRangeBindings,
  pickTextFromPool,
  seededUuid,
} from '../../src/seed/sql';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';

/**
 * The SQL the seeds are built from, evaluated: hashes and ids that depend on the seed and the
 * row number only, ids of one kind that never collide, and a plan whose sessions add up to what
 * was asked, each numbered once.
 */

describe('the pure helpers', () => {
  it('number entries from 1 and build one CASE branch each', () => {
    expect(numberOf(SESSION_SHAPES, 'action_items')).toBe(1);
    expect(numberOf(SESSION_SHAPES, 'action_items_null')).toBe(SESSION_SHAPES.length);
    const entries = [{ name: 'a' }, { name: 'b' }] as const;
    expect(caseByNumber('x', entries, { a: "'A'", b: "'B'" })).toBe(
      "CASE x WHEN 1 THEN 'A' WHEN 2 THEN 'B' END",
    );
    expect(patientRangeBindings({ first: 3, last: 9 })).toEqual([3, 9]);
  });

  it('give every hash stream its own salt', () => {
    const salts = Object.values(HASH_STREAMS);
    expect(new Set(salts).size).toBe(salts.length);
  });

  it('build the same params for the same input', () => {
    const input = inputOf(4, 100);
    expect(generatorParamsCte(input)).toEqual(generatorParamsCte(inputOf(4, 100)));
    expect(generatorParamsCte(input).bindings.slice(0, 4)).toEqual([
      4,
      100,
      input.population.patients,
      input.population.therapists,
    ]);
  });
});

function inputOf(seed: number, sessions: number): GeneratorInput {
  return { seed, sessions, population: planPopulation(sessions), pools: buildSeedPools(seed) };
}

describe('the SQL, evaluated', () => {
  let db: TestDatabase;
  useMigratedDatabase((created) => {
    db = created;
  });

  async function evaluate<Row>(input: GeneratorInput, select: string, more: unknown[] = []) {
    const params = generatorParamsCte(input);
    return sqlRunner(db.knex).rows<Row>(`WITH ${params.sql} ${select}`, [
      ...params.bindings,
      ...more,
    ]);
  }

  const HASHES = `SELECT g.n, ${hashOf('g.n', 'sessionShape')} AS shape, ${hashOf('g.n', 'itemKind')} AS kind,
         ${seededUuid('patient', 'g.n')} AS patient, ${seededUuid('therapist', 'g.n')} AS therapist,
         ${pickTextFromPool('first_names', hashOf('g.n', 'firstName'))} AS first_name
    FROM params CROSS JOIN generate_series(1, 200) AS g(n) ORDER BY g.n`;

  interface HashRow {
    n: number;
    shape: string;
    kind: string;
    patient: string;
    therapist: string;
    first_name: string;
  }

  it('hash by seed, stream and row number only', async () => {
    const first = await evaluate<HashRow>(inputOf(7, 50), HASHES);
    const again = await evaluate<HashRow>(inputOf(7, 50), HASHES);
    const other = await evaluate<HashRow>(inputOf(8, 50), HASHES);
    expect(again).toEqual(first);
    expect(first.every((row) => BigInt(row.shape) >= 0n && BigInt(row.kind) >= 0n)).toBe(true);
    expect(first.filter((row, i) => row.shape === other[i]?.shape)).toEqual([]);
    expect(first.filter((row) => row.shape === row.kind)).toEqual([]);
    const pool = buildSeedPools(7).firstNames;
    expect(first.every((row) => pool.includes(row.first_name))).toBe(true);
  });

  it('make version-8 ids, distinct within a kind and across kinds', async () => {
    const rows = await evaluate<HashRow>(inputOf(7, 50), HASHES);
    const ids = rows.flatMap((row) => [row.patient, row.therapist]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it.each([1, 37, 500])('plans exactly %i session(s), each numbered once', async (sessions) => {
    const input = inputOf(2, sessions);
    const [patients] = await evaluate<{ n: string; sessions: string; patients: string }>(
      input,
      `, ${PATIENTS_CTE} SELECT count(*) AS patients, sum(session_count) AS sessions FROM patients`,
    );
    expect(Number(patients?.patients)).toBe(input.population.patients);
    expect(Number(patients?.sessions)).toBe(sessions);
    const planned = await evaluate<{ n: string }>(
      input,
      `, ${PATIENTS_CTE}, ${PLANNED_SESSIONS_CTE} SELECT n FROM planned ORDER BY n`,
      patientRangeBindings({ first: 1, last: input.population.patients }),
    );
    expect(planned.map((row) => Number(row.n))).toEqual(
      Array.from({ length: sessions }, (_, i) => i + 1),
    );
  });
});

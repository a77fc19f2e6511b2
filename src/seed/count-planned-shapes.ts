import { toCount } from '../db/query-rows';
import type { SqlRunner } from '../db/sql-runner';
import { numberOf } from './case-by-number';
import { type GeneratorInput, generatorParamsCte } from './generator-params';
import {
  ITEM_COUNT_PER_MILLE,
  ITEM_KINDS,
  type ItemKindName,
  SESSION_SHAPES,
  type SessionShapeName,
} from './seed-proportions';
import {
  itemKey,
  itemKindNumber,
  PATIENTS_CTE,
  PLANNED_SESSIONS_CTE,
  patientRangeBindings,
} from './session-plan-sql';

/** How many sessions of each shape, and items of each kind, a seeding generates. */
export interface PlannedShapes {
  sessionsByShape: Record<SessionShapeName, number>;
  itemsByKind: Record<ItemKindName, number>;
}

function zeroes<Name extends string>(entries: readonly { name: Name }[]): Record<Name, number> {
  return Object.fromEntries(entries.map((entry) => [entry.name, 0])) as Record<Name, number>;
}

/**
 * Counts the shapes that the session plan generates, from the plan alone: the same CTEs and
 * hashes as the insert, without building any JSON. Each session counts once (as item 0, of no
 * kind) under its shape; each action item counts under its kind.
 */
export async function countPlannedShapes(
  db: SqlRunner,
  input: GeneratorInput,
): Promise<PlannedShapes> {
  const params = generatorParamsCte(input);
  const withItems = numberOf(SESSION_SHAPES, 'action_items');
  const itemSlots = [
    '(0, CAST(NULL AS int))',
    ...ITEM_COUNT_PER_MILLE.map((_, index) => {
      const item = index + 1;
      return `(${item}, ${itemKindNumber(itemKey('p.n', String(item)))})`;
    }),
  ].join(', ');
  const sql = `WITH ${params.sql},
  ${PATIENTS_CTE},
  ${PLANNED_SESSIONS_CTE}
  SELECT p.shape_no, i.kind_no, count(*) AS n
    FROM planned AS p
    CROSS JOIN params
    CROSS JOIN LATERAL (VALUES ${itemSlots}) AS i(item_no, kind_no)
   WHERE i.item_no = 0 OR (p.shape_no = ${withItems} AND i.item_no <= p.item_count)
   GROUP BY p.shape_no, i.kind_no`;
  const rows = await db.rows<{ shape_no: unknown; kind_no: unknown; n: unknown }>(sql, [
    ...params.bindings,
    ...patientRangeBindings({ first: 1, last: input.population.patients }),
  ]);
  const planned: PlannedShapes = {
    sessionsByShape: zeroes(SESSION_SHAPES),
    itemsByKind: zeroes(ITEM_KINDS),
  };
  for (const row of rows) {
    const count = toCount(row.n);
    if (row.kind_no === null) {
      const shape = SESSION_SHAPES[toCount(row.shape_no) - 1];
      if (shape) planned.sessionsByShape[shape.name] += count;
    } else {
      const kind = ITEM_KINDS[toCount(row.kind_no) - 1];
      if (kind) planned.itemsByKind[kind.name] += count;
    }
  }
  return planned;
}

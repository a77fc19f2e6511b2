/**
 * Choosing from the pools of the `params` CTE (see generator-params.ts), where each pool is a
 * JSON array column with its length in `<pool>_count`.
 */

/** Element number `index` (a non-negative bigint SQL expression, taken modulo the pool's length) of `pool`, as jsonb. */
export function pickFromPool(pool: string, index: string): string {
  return `(params.${pool} -> CAST((${index}) % params.${pool}_count AS int))`;
}

/** The same element as {@link pickFromPool}, as text. */
export function pickTextFromPool(pool: string, index: string): string {
  return `(params.${pool} ->> CAST((${index}) % params.${pool}_count AS int))`;
}

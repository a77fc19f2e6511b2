/**
 * Lines `  reason: count` for every reason with a count, in the order of `reasons`, then any
 * reason the list does not know; `  none` when there are none.
 */
export function renderCountBreakdown(
  counts: Readonly<Partial<Record<string, number>>>,
  reasons: readonly string[],
): string[] {
  const known = reasons.filter((reason) => (counts[reason] ?? 0) > 0);
  const unknown = Object.keys(counts)
    .filter((reason) => !reasons.includes(reason) && (counts[reason] ?? 0) > 0)
    .sort();
  const lines = [...known, ...unknown].map((reason) => `  ${reason}: ${counts[reason] ?? 0}`);
  return lines.length > 0 ? lines : ['  none'];
}

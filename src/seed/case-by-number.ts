/**
 * `CASE <number> WHEN 1 THEN … WHEN 2 THEN … END` over `entries`, in order: the SQL side of
 * choosing by a 1-based bucket number from `width_bucket`. `expressionOf` must cover every
 * name, which the Record type enforces.
 */
export function caseByNumber<Name extends string>(
  numberExpression: string,
  entries: readonly { name: Name }[],
  expressionOf: Readonly<Record<Name, string>>,
): string {
  const branches = entries.map(
    (entry, index) => `WHEN ${index + 1} THEN ${expressionOf[entry.name]}`,
  );
  return `CASE ${numberExpression} ${branches.join(' ')} END`;
}

/** The 1-based bucket number of `name` in `entries`, as `width_bucket` yields it. */
export function numberOf<Name extends string>(
  entries: readonly { name: Name }[],
  name: Name,
): number {
  return entries.findIndex((entry) => entry.name === name) + 1;
}

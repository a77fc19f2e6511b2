/**
 * Adds a problem to `problems` unless `value` is undefined or a whole number from `min` to
 * `max`. The message names the option and the value, so it says what to fix.
 */
export function checkWholeNumber(
  problems: string[],
  name: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got ${String(value)})`);
  }
}

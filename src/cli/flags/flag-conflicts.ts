/** Two flags that cannot be given together, and why. */
export interface FlagConflict {
  flags: readonly [string, string];
  reason: string;
}

/** Every pair of flags that cannot be combined. This is the only place such rules live. */
export const FLAG_CONFLICTS: readonly FlagConflict[] = [
  {
    flags: ['dry-run', 'error-log'],
    reason: 'a dry run writes nothing, so no session can fail; drop one of them',
  },
];

/** Whether a flag was given: a boolean set to true, or any other value at all. */
function isGiven(value: unknown): boolean {
  return value !== undefined && value !== false;
}

/** One problem per conflicting pair among the flags in `argv` (keys without the dashes). */
export function findFlagConflicts(argv: Readonly<Record<string, unknown>>): string[] {
  return FLAG_CONFLICTS.filter(({ flags }) => flags.every((flag) => isGiven(argv[flag]))).map(
    ({ flags: [first, second], reason }) =>
      `--${first} and --${second} cannot be used together: ${reason}`,
  );
}

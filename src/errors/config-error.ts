import { GoalBackfillError } from './goal-backfill-error';

/** Options or configuration that cannot be used. Every problem is reported at once. */
export class ConfigError extends GoalBackfillError {
  readonly code = 'CONFIG_INVALID';

  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(problems.join('; '), options);
  }
}

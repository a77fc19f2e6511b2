import { GoalBackfillError } from '../errors/goal-backfill-error';

/** The seeds were asked to run where they must not: they would delete real data. */
export class SeedRefusedError extends GoalBackfillError {
  readonly code = 'SEED_REFUSED';

  constructor(
    /** Why, e.g. `NODE_ENV is production`. */
    readonly reason: string,
    options?: {
      /** What to change when it is a setting, e.g. `unset NODE_ENV`; shown in parentheses. */
      fix?: string;
      cause?: unknown;
    },
  ) {
    super(
      `refusing to seed: ${reason}. Seeding replaces the seeded users, sessions and goals; ` +
        'run it against a development or scratch database that only seeds have filled' +
        (options?.fix ? ` (${options.fix})` : ''),
      options,
    );
  }
}

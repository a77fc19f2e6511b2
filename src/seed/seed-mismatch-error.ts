import { GoalBackfillError } from '../errors/goal-backfill-error';

/** The backfill's counts on seeded data differ from what the seeds planned (counts only). */
export class SeedMismatchError extends GoalBackfillError {
  readonly code = 'SEED_MISMATCH';

  constructor(readonly mismatches: readonly string[]) {
    super(`the backfill disagrees with the seeded data: ${mismatches.join('; ')}`);
  }
}

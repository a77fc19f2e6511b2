import type { Knex } from 'knex';
import { describeErrorSafely } from '../db/safe-error';
import { GoalBackfillError } from '../errors/goal-backfill-error';
import { MigrationFailedError } from '../errors/migration-failed-error';

/** A Knex migration module. */
export interface KnexMigration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
  config?: { transaction?: boolean };
}

/**
 * Wraps a migration so that what its `up` or `down` throws reaches Knex free of health text in
 * message and stack alike, and prints as one line (the Knex CLI prints `err.stack`). This
 * package's own errors, whose messages carry only ids, counts and codes, keep their class and
 * code with a one-line stack; anything else becomes a {@link MigrationFailedError}.
 */
export function safeMigration(name: string, migration: KnexMigration): KnexMigration {
  const guard =
    (direction: 'up' | 'down') =>
    async (knex: Knex): Promise<void> => {
      try {
        await migration[direction](knex);
      } catch (err) {
        if (err instanceof GoalBackfillError) {
          err.stack = `${err.name}: ${err.message}`;
          throw err;
        }
        const { code, message } = describeErrorSafely(err);
        throw new MigrationFailedError(name, direction, code, message);
      }
    };
  return { ...migration, up: guard('up'), down: guard('down') };
}

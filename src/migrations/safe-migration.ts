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
 * What an entry point that the Knex CLI runs (a migration, a seed) throws in place of `err`:
 * free of health text in message and stack alike, and printed as one line (the Knex CLI
 * prints `err.stack`). This package's own errors, whose messages carry only ids, counts and
 * codes, keep their class and code with a one-line stack; anything else becomes a
 * {@link MigrationFailedError} rebuilt from codes and this package's own identifiers.
 */
export function toKnexCliError(err: unknown, step: string): Error {
  if (err instanceof GoalBackfillError) {
    err.stack = `${err.name}: ${err.message}`;
    return err;
  }
  const { code, message } = describeErrorSafely(err);
  return new MigrationFailedError(step, code, message);
}

/** Wraps a migration so that whatever its `up` or `down` throws passes {@link toKnexCliError}. */
export function safeMigration(name: string, migration: KnexMigration): KnexMigration {
  const guard =
    (direction: 'up' | 'down') =>
    async (knex: Knex): Promise<void> => {
      try {
        await migration[direction](knex);
      } catch (err) {
        throw toKnexCliError(err, `migration ${name} (${direction})`);
      }
    };
  return { ...migration, up: guard('up'), down: guard('down') };
}

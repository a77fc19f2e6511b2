import type { Knex } from 'knex';
import { backfillEnvOptions } from '../src/config/backfill-env';
import { BackfillIncompleteError } from '../src/errors/backfill-incomplete-error';
import { createLogger } from '../src/logging/create-logger';
import { toKnexCliError } from '../src/migrations/safe-migration';
import { renderRunSummary } from '../src/report/run-summary';
import { assertSeedingAllowed } from '../src/seed/assert-seeding-allowed';
import { compareWithPlan } from '../src/seed/compare-with-plan';
import { readSeedSettings, type SeedSettings } from '../src/seed/read-seed-settings';
import { GoalBackfillError } from '../src/errors/goal-backfill-error';
import { seedAndBackfill } from '../src/seed/seed-and-backfill';
import { SeedMismatchError } from '../src/seed/seed-mismatch-error';

/**
 * `npx knex seed:run`: empties the seeded tables, fills them with a deterministic therapy
 * practice of SEED_SESSIONS sessions (default 2000), and runs the goal backfill on it, reading
 * the GOAL_BACKFILL_* variables like the migration does. Refuses under NODE_ENV=production.
 * See docs/seeding.md.
 */
export async function seed(knex: Knex): Promise<void> {
  let settings: SeedSettings;
  try {
    assertSeedingAllowed(process.env, process.argv);
    settings = readSeedSettings(process.env);
  } catch (err) {
    // Under `npx knex seed:run`, a refused or mistyped setting is one line and exit 2; Knex
    // would wrap it in its own stack. Nothing has touched the database yet.
    if (process.argv.includes('seed:run') && err instanceof GoalBackfillError) {
      process.stderr.write(`knex seed:run: ${err.message}\n`);
      process.exit(2);
    }
    throw toKnexCliError(err, 'seed 01_therapy_practice');
  }
  try {
    await seedPractice(knex, settings);
  } catch (err) {
    throw toKnexCliError(err, 'seed 01_therapy_practice');
  }
}

async function seedPractice(knex: Knex, settings: SeedSettings): Promise<void> {
  const logger = createLogger({
    level: settings.backfill.logLevel,
    format: settings.backfill.logFormat,
  });
  const { seeding, backfill } = await seedAndBackfill({
    knex,
    logger,
    sessions: settings.sessions,
    backfill: backfillEnvOptions(settings.backfill),
  });
  const mismatches = compareWithPlan(backfill, seeding.expectedBackfill);
  const check =
    mismatches.length === 0
      ? `Seeded data check: the counts match the ${seeding.sessions} sessions the seed generated.`
      : `Seeded data check: MISMATCH: ${mismatches.join('; ')}`;
  // The report is what `npm start` ends with; the seed is an entry point, so it prints.
  process.stdout.write(`${renderRunSummary(backfill, { errorLogPath: null })}\n${check}\n`);
  if (backfill.errors > 0) throw new BackfillIncompleteError(backfill.errors, backfill.runId);
  if (mismatches.length > 0) throw new SeedMismatchError(mismatches);
}

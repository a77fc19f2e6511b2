import type { Knex } from 'knex';
import { BackfillIncompleteError, ConfigError } from '../src/errors';
import { createLogger } from '../src/logging';
import { toKnexCliError } from '../src/migrations';
import { backfillEnvOptions, logSettingsFromEnv } from '../src/options';
import { renderRunSummary } from '../src/report';
import { seedAndBackfill } from '../src/seed';
import { compareWithPlan, SeedMismatchError } from '../src/seed/mix';
import { assertSeedingAllowed, SeedRefusedError } from '../src/seed/reset';
import { readSeedSettings, type SeedSettings } from '../src/seed/settings';

/**
 * `npx knex seed:run`: empties the seeded tables, fills them with a deterministic therapy
 * practice of SEED_SESSIONS sessions (default 2000), and runs the goal backfill on it, reading
 * the GOAL_BACKFILL_* variables like the migration does. Refuses under NODE_ENV=production,
 * `--env production`, and on a database holding rows the seeds did not create. See
 * docs/seeding.md.
 */
export async function seed(knex: Knex): Promise<void> {
  try {
    assertSeedingAllowed(process.env, process.argv);
    await seedPractice(knex, readSeedSettings(process.env));
  } catch (err) {
    // In json format (GOAL_BACKFILL_LOG_FORMAT), this writes the failure as one event itself.
    const safe = toKnexCliError(err, 'seed 01_therapy_practice', {
      event: 'seed.failed',
      fields: { seed: '01_therapy_practice' },
    });
    // Knex's seeder wraps whatever a seed throws in an error of its own and prints both stacks:
    // three lines, a stack frame among them. Under `npx knex seed:run` the error is one line,
    // exit 2 for a refusal or a setting to fix, 1 otherwise.
    if (process.argv.includes('seed:run')) {
      if (logSettingsFromEnv(process.env).logFormat === 'text') {
        process.stderr.write(`knex seed:run: ${safe.message}\n`);
      }
      process.exit(isRefusal(err) ? 2 : 1);
    }
    throw safe;
  }
}

/** A refused seed or a bad setting: nothing was deleted or written. */
function isRefusal(err: unknown): boolean {
  return err instanceof SeedRefusedError || err instanceof ConfigError;
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

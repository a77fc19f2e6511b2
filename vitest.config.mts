import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Knex loads migrations with Node's require; this lets it read the .ts files.
    setupFiles: ['test/support/register-typescript.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // `.only` fails the run in CI (CI=true), so a focused test cannot hide the others.
    allowOnly: !process.env.CI,
    // The migrations log through the default logger; keep test output to warnings.
    env: { GOAL_BACKFILL_LOG_LEVEL: 'warn' },
  },
});

import { defineConfig } from 'vitest/config';

/**
 * Slow end-to-end files carry `.e2e.` in their name (`*.e2e.test.ts`): package installs
 * (test/package), the embedded database in its own processes and under load, files that start
 * many processes. Everything else is the library's quick project. `vitest run` runs both;
 * `--project lib` or `--project e2e` one of them (docs/development.md#tests).
 */
const E2E = 'test/**/*.e2e.test.ts';

export default defineConfig({
  test: {
    // Knex loads migrations with Node's require; this lets it read the .ts files.
    setupFiles: ['test/support/register-typescript.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // `.only` fails the run in CI (CI=true), so a focused test cannot hide the others.
    allowOnly: !process.env.CI,
    // The migrations log through the default logger; keep test output to warnings.
    env: { GOAL_BACKFILL_LOG_LEVEL: 'warn' },
    projects: [
      { extends: true, test: { name: 'lib', include: ['test/**/*.test.ts'], exclude: [E2E] } },
      { extends: true, test: { name: 'e2e', include: [E2E] } },
    ],
  },
});

import path from 'node:path';
import type { Knex } from 'knex';
import { KNEX_ENVIRONMENTS, type KnexEnvironment, knexConfigFor } from './src/config/knex';
import { toKnexCliError, withOneLineConnectFailures } from './src/migrations';

const paths = {
  migrations: path.join(__dirname, 'migrations'),
  seeds: path.join(__dirname, 'seeds'),
  // Where the embedded database lives unless GOAL_BACKFILL_DATA_DIR says otherwise.
  embeddedData: path.join(__dirname, '.data', 'pglite'),
};

/**
 * One entry per environment (`--env`, or NODE_ENV, default development). Each is a getter, so
 * only the environment in use reads and checks its variables. Without DATABASE_URL,
 * development and test use the embedded database in .data/pglite; production refuses.
 */
const config = {} as Record<KnexEnvironment, Knex.Config>;
// Built once per environment: the embedded database's lock must be taken only once.
const built = new Map<KnexEnvironment, Knex.Config>();
for (const environment of KNEX_ENVIRONMENTS) {
  Object.defineProperty(config, environment, {
    enumerable: true,
    get: () => {
      const existing = built.get(environment);
      if (existing) return existing;
      let fresh: Knex.Config;
      try {
        // The Knex CLI prints a failed connection's stack too: it becomes one line as well.
        fresh = withOneLineConnectFailures(knexConfigFor(environment, process.env, paths));
      } catch (err) {
        // The Knex CLI prints err.stack: a setting to fix is one line, like the migrations' errors.
        throw toKnexCliError(err, `knexfile (${environment})`);
      }
      built.set(environment, fresh);
      return fresh;
    },
  });
}

module.exports = config;

import path from 'node:path';
import type { Knex } from 'knex';
import { KNEX_ENVIRONMENTS, type KnexEnvironment, knexConfigFor } from './src/config/knex-config';

const paths = {
  migrations: path.join(__dirname, 'migrations'),
  seeds: path.join(__dirname, 'seeds'),
  embeddedData: path.join(__dirname, '.data', 'pglite'),
};

/**
 * One entry per environment (`--env`, or NODE_ENV, default development). Each is a getter, so
 * only the environment in use reads and checks its variables. Without DATABASE_URL,
 * development and test use the embedded database in .data/pglite; production refuses.
 */
const config = {} as Record<KnexEnvironment, Knex.Config>;
for (const environment of KNEX_ENVIRONMENTS) {
  Object.defineProperty(config, environment, {
    enumerable: true,
    get: () => knexConfigFor(environment, process.env, paths),
  });
}

module.exports = config;

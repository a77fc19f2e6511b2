export { KNEX_ENVIRONMENTS, type KnexEnvironment, knexConfigFor } from './knex';

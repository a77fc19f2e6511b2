export { describeDatabase } from './knex';

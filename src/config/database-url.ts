export { describeConnectionString } from './knex';

export { queryRows, toCount } from './sql-runner';

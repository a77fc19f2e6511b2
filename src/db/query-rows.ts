export { queryRows, toCount } from './connection';

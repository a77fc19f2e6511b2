export { resetLocalDatabase } from './reset';

export { MigrationFailedError } from '../errors';

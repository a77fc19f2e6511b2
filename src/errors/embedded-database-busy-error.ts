export { EmbeddedDatabaseBusyError } from '../errors';

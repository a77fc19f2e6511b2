export { SchemaChangeBlockedError } from '../errors';

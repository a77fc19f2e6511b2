export type { NameLookup } from '../errors';
export { SchemaNotReadyError } from '../errors';

export { SchemaNotReadyError } from '../errors';
export type { NameLookup } from '../errors';

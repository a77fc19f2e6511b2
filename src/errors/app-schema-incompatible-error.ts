export { AppSchemaIncompatibleError } from '../errors';
export type { AppSchemaProblem } from '../errors';

export type { AppSchemaProblem } from '../errors';
export { AppSchemaIncompatibleError } from '../errors';

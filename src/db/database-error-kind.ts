export { databaseErrorKind } from './failures';
export type { DatabaseErrorKind } from './failures';

export type { DatabaseErrorKind } from './failures';
export { databaseErrorKind } from './failures';

export { isOwnIdentifier } from './failures';
export type { IdentifierKind } from './failures';

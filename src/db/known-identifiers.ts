export type { IdentifierKind } from './failures';
export { isOwnIdentifier } from './failures';

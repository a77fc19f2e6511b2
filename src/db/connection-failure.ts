export { connectionFailureReason, asDatabaseUnreachable } from './failures';
export type { ConnectionFailureContext } from './failures';

export type { ConnectionFailureContext } from './failures';
export { asDatabaseUnreachable, connectionFailureReason } from './failures';

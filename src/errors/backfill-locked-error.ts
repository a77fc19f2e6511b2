export { BackfillLockedError } from '../errors';
export type { LockHolder } from '../errors';

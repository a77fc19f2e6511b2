export type { LockHolder } from '../errors';
export { BackfillLockedError } from '../errors';

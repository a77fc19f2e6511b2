export type { BackfillStatus, StatusOptions } from '../status';
export { findResumableRun, getBackfillStatus } from '../status';

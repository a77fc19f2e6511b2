export { findResumableRun, getBackfillStatus } from '../status';
export type { StatusOptions, BackfillStatus } from '../status';

export { type RollbackOptions, type RollbackResult, rollbackBackfill } from '../rollback';

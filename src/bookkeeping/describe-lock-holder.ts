export { describeLockHolderRun } from '../backfill/store';

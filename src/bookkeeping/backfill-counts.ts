export { addCounts, type BackfillCounts, emptyCounts } from '../backfill/rules';

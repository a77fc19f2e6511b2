export type { RunRecord } from '../backfill/store';

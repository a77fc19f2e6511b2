export {
  type BackfillOptions,
  type BackfillProgress,
  DEFAULT_BATCH_SIZE,
  MAX_BATCH_SIZE,
  type ResolvedBackfillOptions,
  resolveBackfillOptions,
} from '../options';

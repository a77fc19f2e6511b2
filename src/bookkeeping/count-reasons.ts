export {
  INVALID_ITEM_REASONS,
  type InvalidItemReason,
  SESSION_SKIP_REASONS,
  type SessionSkipReason,
  UNPLACED_SESSION_REASONS,
  type UnplacedSessionReason,
} from '../backfill/rules';

export { OWNERSHIP_MARK, relationOwnership } from './lock-safe-ddl';

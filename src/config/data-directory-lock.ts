export {
  DataDirectoryLockedError,
  type LockOwner,
  lockDataDirectory,
  ownerIsDead,
} from './embedded';

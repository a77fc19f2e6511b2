export { RunConnection as LockedConnection } from './connection';

export { PinnedConnection } from './connection';

export { describeLockHolders } from '../errors';

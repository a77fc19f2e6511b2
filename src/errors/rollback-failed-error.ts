export { RollbackFailedError } from '../errors';

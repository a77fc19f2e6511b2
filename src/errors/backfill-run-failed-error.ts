export { BackfillRunFailedError } from '../errors';

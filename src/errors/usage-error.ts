export { UsageError } from '../errors';

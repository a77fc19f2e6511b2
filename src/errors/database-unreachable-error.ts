export { DatabaseUnreachableError } from '../errors';

export { TeardownRefusedError } from '../errors';

export { BackfillIncompleteError } from '../errors';

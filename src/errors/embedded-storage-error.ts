export { EmbeddedStorageError } from '../errors';

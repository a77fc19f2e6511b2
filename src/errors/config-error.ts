export { ConfigError } from '../errors';

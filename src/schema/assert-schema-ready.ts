export { assertSchemaReady } from './app-tables';

export { assertAppSchemaCompatible } from './app-tables';

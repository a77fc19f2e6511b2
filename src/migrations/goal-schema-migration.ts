export { goalSchemaMigration } from '../migrations';

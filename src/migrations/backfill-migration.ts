export { backfillMigration } from '../migrations';

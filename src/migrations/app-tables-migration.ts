export { appTablesMigration } from '../migrations';

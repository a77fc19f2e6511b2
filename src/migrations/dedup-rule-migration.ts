export { dedupRuleMigration } from '../migrations';

export { GoalSchemaConflictError } from '../errors';

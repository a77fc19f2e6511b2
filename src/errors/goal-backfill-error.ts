export { GoalBackfillError } from '../errors';

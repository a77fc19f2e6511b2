export { type GoalCensus, takeGoalCensus } from '../goals';

export {
  buildGoalStatement,
  type CreatedAtConversion,
  type GoalStatement,
  type GoalStatementOptions,
  readCreatedAtConversion,
  type SessionDecision,
  type SessionSelection,
  type StatementCountsRow,
  type StatementMode,
} from './statement';

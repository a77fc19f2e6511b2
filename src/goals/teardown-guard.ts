export {
  assertTeardownAllowed,
  type GoalSchemaTeardown,
  TEARDOWN_OVERRIDE_VARIABLE,
  type TeardownOptions,
  teardownGoalSchema,
} from '../goals';

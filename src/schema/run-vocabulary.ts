export { INVOKERS, RUN_STATUSES } from '../names';
export type { Invoker, RunStatus } from '../names';

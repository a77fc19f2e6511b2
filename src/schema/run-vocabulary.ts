export type { Invoker, RunStatus } from '../names';
export { INVOKERS, RUN_STATUSES } from '../names';

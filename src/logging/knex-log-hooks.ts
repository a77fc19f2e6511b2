export { knexLogHooks } from '../logging';
export type { KnexLogHooks } from '../logging';

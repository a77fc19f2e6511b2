export type { KnexLogHooks } from '../logging';
export { knexLogHooks } from '../logging';

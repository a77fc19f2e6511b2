export type { RetryOptions } from './failures';
export { retryTransient } from './failures';

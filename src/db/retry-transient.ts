export { retryTransient } from './failures';
export type { RetryOptions } from './failures';

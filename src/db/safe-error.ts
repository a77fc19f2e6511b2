export type { SafeErrorDescription } from './failures';
export { describeErrorSafely, errorLogFields } from './failures';

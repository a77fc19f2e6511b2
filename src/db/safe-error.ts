export { errorLogFields, describeErrorSafely } from './failures';
export type { SafeErrorDescription } from './failures';

export { BackfillUnverifiedError } from '../errors';
export type { PassShortfall } from '../errors';

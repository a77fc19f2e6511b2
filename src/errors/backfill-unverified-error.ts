export type { PassShortfall } from '../errors';
export { BackfillUnverifiedError } from '../errors';

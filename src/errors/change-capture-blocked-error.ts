export { ChangeCaptureBlockedError } from '../errors';

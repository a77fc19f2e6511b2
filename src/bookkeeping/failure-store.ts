export { failureStore, type SessionFailure } from '../backfill/store';

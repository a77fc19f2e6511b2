export { type BackfillResult, MAX_LISTED_FAILURES } from './store';

export { runBackfill } from './run';

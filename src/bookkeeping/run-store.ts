export { runStore } from '../backfill/store';

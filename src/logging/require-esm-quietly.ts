export { requireEsmQuietly } from '../logging';

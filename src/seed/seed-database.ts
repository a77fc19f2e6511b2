export { seedDatabase } from './index';

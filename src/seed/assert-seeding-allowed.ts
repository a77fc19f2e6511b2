export { assertSeedingAllowed } from './reset';

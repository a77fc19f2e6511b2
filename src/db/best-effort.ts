export { bestEffort } from './failures';

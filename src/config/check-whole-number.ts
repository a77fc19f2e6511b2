export { checkWholeNumber } from '../options';

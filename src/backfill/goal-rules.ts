export { DEFAULT_CATEGORY, JS_TRIM_CHARACTERS } from './rules';

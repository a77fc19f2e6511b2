export { conditionName, sqlStateOf, stringField } from './failures';

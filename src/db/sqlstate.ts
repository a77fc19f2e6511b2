export { sqlStateOf, conditionName, stringField } from './failures';

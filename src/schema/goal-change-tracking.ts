export { clinicalColumnsOf, fingerprintSql, GOAL_CHANGE_TRACKING } from './change-tracking';

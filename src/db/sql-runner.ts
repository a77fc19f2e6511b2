export { type SqlRunner, sqlRunner } from './connection';

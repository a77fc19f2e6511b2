export { renderStatusReport, renderStatusJson } from '../report';

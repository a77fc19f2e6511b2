export { renderStatusJson, renderStatusReport } from '../report';

export { renderRollbackReport, renderRollbackJson } from '../report';

export { renderRollbackJson, renderRollbackReport } from '../report';

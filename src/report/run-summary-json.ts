export type { RunSummaryJson } from '../report';
export { renderRunSummaryJson, toRunSummaryJson } from '../report';

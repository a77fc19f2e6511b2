export { toRunSummaryJson, renderRunSummaryJson } from '../report';
export type { RunSummaryJson } from '../report';

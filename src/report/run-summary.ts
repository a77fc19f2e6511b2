export type { RunSummaryContext } from '../report';
export { renderRunSummary, SUMMARY_RULE } from '../report';

export { SUMMARY_RULE, renderRunSummary } from '../report';
export type { RunSummaryContext } from '../report';

export { renderCountBreakdown } from '../report';

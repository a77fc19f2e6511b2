export { renderFailureTrace } from '../report';

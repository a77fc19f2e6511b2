export { errorLogLine } from '../report';

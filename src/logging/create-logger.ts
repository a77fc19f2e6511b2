export type { CreateLoggerOptions, LogFormat, LogLevel } from '../logging';
export { createLogger, LOG_LEVELS, renderLogLine } from '../logging';

export { LOG_LEVELS, createLogger, renderLogLine } from '../logging';
export type { LogFormat, LogLevel, CreateLoggerOptions } from '../logging';

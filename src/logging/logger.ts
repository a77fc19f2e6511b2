export { silentLogger, fieldsFirst } from '../logging';
export type { LogValue, LogFields, Logger, FieldsFirstLogger } from '../logging';

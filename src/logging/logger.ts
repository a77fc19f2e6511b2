export type { FieldsFirstLogger, LogFields, Logger, LogValue } from '../logging';
export { fieldsFirst, silentLogger } from '../logging';

/** A value that may appear in a structured log event. Health text never does. */
export type LogValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly string[]
  | Readonly<Record<string, number>>;

/** The fields of one structured log event: ids, counts, codes and durations. */
export type LogFields = Readonly<Record<string, LogValue>>;

/**
 * The narrow logger the library writes to. A winston `Logger` satisfies it, and so does any
 * object with these four methods. Each call is one event: a dotted event name and its fields.
 */
export interface Logger {
  error(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
}

/** A logger that drops every event, for callers that want only the returned result. */
export const silentLogger: Logger = Object.freeze({
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
});

/**
 * A logger whose methods take the fields first and the message second, as pino's do
 * (`pino.info({ runId }, 'backfill.start')`); winston's and this package's take the message
 * first. Only the four methods are used.
 */
export interface FieldsFirstLogger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/**
 * A {@link Logger} over a pino logger (or any {@link FieldsFirstLogger}): each event is logged
 * with its fields as the object and its name as the message, so
 * `goalSchemaMigration({ logger: fieldsFirst(pino()) })` writes pino's own lines.
 */
export function fieldsFirst(target: FieldsFirstLogger): Logger {
  return {
    error: (event, fields = {}) => target.error({ ...fields }, event),
    warn: (event, fields = {}) => target.warn({ ...fields }, event),
    info: (event, fields = {}) => target.info({ ...fields }, event),
    debug: (event, fields = {}) => target.debug({ ...fields }, event),
  };
}

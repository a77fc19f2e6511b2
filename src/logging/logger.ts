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

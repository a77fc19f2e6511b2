import type { Writable } from 'node:stream';
import winston from 'winston';

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

/** Field names that could carry health text. They are removed from every event as a last guard. */
const HEALTH_FIELD_NAMES = new Set([
  'task',
  'description',
  'details',
  'category',
  'notes',
  'extracted_notes',
  'action_items',
]);

/** Where winston's formats leave the finished line (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');

/** How log lines are written: `text` for people, `json` for log pipelines. */
export type LogFormat = 'text' | 'json';

/** The log levels, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface CreateLoggerOptions {
  /** @default 'info' */
  level?: LogLevel;
  /** @default 'text' */
  format?: LogFormat;
  /** Where lines go. @default process.stderr */
  stream?: Writable;
}

const dropHealthFields = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (HEALTH_FIELD_NAMES.has(key)) delete info[key];
  }
  return info;
});

function renderValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

const textLine = winston.format.printf((info) => {
  const { level, message, timestamp, ...fields } = info;
  const rendered = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${renderValue(value)}`)
    .join(' ');
  return `${String(timestamp)} ${level.padEnd(5)} ${String(message)}${rendered ? ` ${rendered}` : ''}`;
});

/**
 * How every line this project writes is formed. `json`: one object per line with `level`,
 * `message` (the event's dotted name), `timestamp` (ISO 8601, UTC) and the event's fields, keys
 * in alphabetical order (winston's `json`). `text`: `<timestamp> <level> <event> key=value …`.
 */
function lineFormat(format: LogFormat): winston.Logform.Format {
  return winston.format.combine(
    dropHealthFields(),
    winston.format.timestamp(),
    format === 'json' ? winston.format.json() : textLine,
  );
}

/**
 * Builds the project's default winston logger. Only entry points (the CLI, the migrations and
 * the seeds) call this; the library receives whatever logger its caller passes in.
 */
export function createLogger(options: CreateLoggerOptions = {}): winston.Logger {
  const { level = 'info', format = 'text', stream = process.stderr } = options;
  return winston.createLogger({
    level,
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: lineFormat(format),
    transports: [new winston.transports.Stream({ stream })],
  });
}

/**
 * One event as the line {@link createLogger} would write for it, newline included, for the
 * lines an entry point writes itself, at once, as the process ends (a fatal error, a refused
 * setting): the same fields in the same format as every other line.
 */
export function renderLogLine(
  format: LogFormat,
  level: LogLevel,
  event: string,
  fields: LogFields = {},
): string {
  const info = lineFormat(format).transform({ ...fields, level, message: event });
  const line = typeof info === 'object' ? (info as Record<symbol, unknown>)[MESSAGE] : '';
  return `${String(line)}\n`;
}

/** Knex's `log` setting: where its own warnings, errors, deprecations and debug output go. */
export interface KnexLogHooks {
  warn(message: unknown): void;
  error(message: unknown): void;
  deprecate(message: unknown): void;
  debug(message: unknown): void;
}

/**
 * Knex's own messages that carry no database text, each with what of it may be logged. Any
 * other message of Knex's may quote a driver's or the server's error (`Connection Error: …`,
 * `migration failed with error: …` with an app migration's error) and is logged without it.
 */
const KNOWN_MESSAGES: readonly { pattern: RegExp; keep: (match: RegExpExecArray) => string }[] = [
  { pattern: /^migration file "([^"\n]+)" failed$/, keep: (m) => m[0] },
  // The error follows, as the migration threw it: this package's are logged on their own.
  { pattern: /^migration failed with error: /, keep: () => 'migration failed with error' },
  {
    pattern: /^Can't take lock to run migrations: Migration table is already locked$/,
    keep: (m) => m[0],
  },
  {
    pattern: /^If you are sure migrations are not running you can release the lock/,
    keep: (m) => m[0],
  },
  { pattern: /^migration [^\n]+ did not return a promise$/, keep: (m) => m[0] },
  // Knex names its own methods here, never a value.
  { pattern: /^[^\n]{1,80} is deprecated, please use [^\n]{1,80}$/, keep: (m) => m[0] },
];

/** What of one of Knex's messages may be logged: the known ones as they are, else nothing. */
function safeNotice(message: unknown): string | null {
  if (typeof message !== 'string') return null;
  for (const { pattern, keep } of KNOWN_MESSAGES) {
    const match = pattern.exec(message);
    if (match) return keep(match);
  }
  return null;
}

/**
 * Knex's `log` hooks that send its lines through `logger` as events, in the logger's format
 * (with this package's default logger and GOAL_BACKFILL_LOG_FORMAT=json, one JSON object a
 * line, like every other line): `knex.deprecation` at warn, and `knex.warning`, `knex.error`
 * and `knex.debug` at debug, since what they report reaches the caller as an error too (the
 * migration's failure, the pool's), which is logged once, without the server's text. An event
 * carries `notice`, Knex's text, for its messages known to hold no database text; any other
 * warning or error is dropped, since nothing of it may be said (a pool's `Acquire connection
 * error: …` while it shuts down, a driver's `Connection Error: …`). Debug output (queries and
 * their bindings) is logged as its `method` only. Give them to a knexfile:
 * `log: knexLogHooks(logger)`.
 */
export function knexLogHooks(logger: Logger): KnexLogHooks {
  const known = (event: string) => (message: unknown) => {
    const notice = safeNotice(message);
    if (notice !== null) logger.debug(event, { notice });
  };
  return {
    deprecate: (message) => logger.warn('knex.deprecation', { notice: safeNotice(message) }),
    warn: known('knex.warning'),
    error: known('knex.error'),
    debug: (message) => {
      const method = (message as { method?: unknown } | null)?.method;
      logger.debug('knex.debug', { method: typeof method === 'string' ? method : null });
    },
  };
}

/** Node's warning for a require() that loads an ES module, as its message starts. */
const REQUIRE_ESM_WARNING = /^CommonJS module .* is loading ES Module .* using require\(\)/;

/**
 * Runs `load`, a require() that reaches an ES module, without the ExperimentalWarning that
 * Node 22.12 prints on stderr (three lines) when the requiring module sits outside
 * node_modules: the checkout's src/cli/main.ts loading yargs 18, src/seed loading faker. An
 * installed package sits under node_modules and is never warned about, nor is anything on
 * Node 20.19+ or a later 22, so without this an error would be one stderr line everywhere but
 * there. Only that warning is dropped, and only while `load` runs; every other warning passes.
 */
export function requireEsmQuietly<T>(load: () => T): T {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    const options = rest[0];
    const type =
      typeof options === 'string' ? options : (options as { type?: unknown } | undefined)?.type;
    if (type === 'ExperimentalWarning' && REQUIRE_ESM_WARNING.test(text)) return;
    emitWarning.call(process, warning as string, ...(rest as []));
  }) as typeof process.emitWarning;
  try {
    return load();
  } finally {
    process.emitWarning = emitWarning;
  }
}

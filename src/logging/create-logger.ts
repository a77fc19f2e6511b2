import type { Writable } from 'node:stream';
import winston from 'winston';
import type { LogFields } from './logger';

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

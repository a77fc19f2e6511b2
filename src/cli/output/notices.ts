import type { LogFormat } from '../../logging/create-logger';
import type { Logger } from '../../logging/logger';
import type { StderrLines } from './stderr-lines';

/**
 * The CLI's own messages to the operator on stderr: what it did and what to do next. In text
 * format they are plain `goal-backfill: …` lines; in json format they are log events, so stderr
 * stays one JSON object per line. They carry ids, counts and codes, never health text.
 */
export interface Notices {
  info(text: string): void;
  warn(text: string): void;
  /** `hint` follows the code, e.g. how to learn more. */
  error(text: string, code?: string | null, hint?: string): void;
  /** Extra detail (stack frames) printed only under --verbose. */
  detail(lines: readonly string[]): void;
}

/** Builds the notices for one invocation. */
export function createNotices(format: LogFormat, stderr: StderrLines, logger: Logger): Notices {
  if (format === 'json') {
    return {
      info: (text) => logger.info('cli.notice', { notice: text }),
      warn: (text) => logger.warn('cli.warning', { notice: text }),
      error: (text, code, hint) =>
        logger.error('cli.error', { notice: hint ? `${text}; ${hint}` : text, code: code ?? null }),
      detail: (lines) => logger.error('cli.error_detail', { frames: lines }),
    };
  }
  return {
    info: (text) => stderr.line(`goal-backfill: ${text}`),
    warn: (text) => stderr.line(`goal-backfill: WARNING: ${text}`),
    error: (text, code, hint) =>
      stderr.line(
        `goal-backfill: error: ${text}${code ? ` [${code}]` : ''}${hint ? ` (${hint})` : ''}`,
      ),
    detail: (lines) => {
      for (const line of lines) stderr.line(line);
    },
  };
}

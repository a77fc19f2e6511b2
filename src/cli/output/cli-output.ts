import { Writable } from 'node:stream';
import type { MultiBar } from 'cli-progress';
import { createLogger, type LogFormat } from '../../logging/create-logger';
import type { Logger } from '../../logging/logger';

/**
 * The CLI's stderr for log lines and notices. While a live progress bar is drawn, lines go
 * through its `log()`, which prints them above the bar; otherwise straight to the target.
 */
export class StderrLines extends Writable {
  /** The live bar, while one is drawn. */
  bar: MultiBar | null = null;

  constructor(private readonly target: Writable) {
    super();
  }

  /** Writes one line now, bypassing the stream's buffering, so it keeps its order with others. */
  line(text: string): void {
    this.send(`${text}\n`);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    this.send(chunk.toString('utf8'));
    done();
  }

  private send(text: string): void {
    if (this.bar === null) this.target.write(text);
    else this.bar.log(text);
  }
}

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

/** Where one command writes: its logger and notices go to stderr, its report to stdout. */
export interface CliOutput {
  logger: Logger;
  notices: Notices;
  /** stderr as log lines see it, for a progress bar to share. */
  stderr: StderrLines;
  /** Warns `text` once when `signal` aborts (the first signal); answers how to stop listening. */
  onAbort(signal: AbortSignal, text: string): () => void;
}

/** Builds the output of one command on `target`, at debug level under --verbose. */
export function openCliOutput(target: Writable, verbose: boolean, format: LogFormat): CliOutput {
  const stderr = new StderrLines(target);
  const logger = createLogger({ level: verbose ? 'debug' : 'info', format, stream: stderr });
  const notices = createNotices(format, stderr, logger);
  return {
    logger,
    notices,
    stderr,
    onAbort: (signal, text) => {
      const announce = () => notices.warn(text);
      signal.addEventListener('abort', announce, { once: true });
      return () => signal.removeEventListener('abort', announce);
    },
  };
}

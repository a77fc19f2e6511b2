import { Writable } from 'node:stream';
import type { MultiBar, SingleBar } from 'cli-progress';
import type { Knex } from 'knex';
import type { ArgumentsCamelCase, CommandModule } from 'yargs';
import type { CliDatabaseOptions } from '../config/knex';
import type { Logger } from '../logging';
import { createLogger, type LogFormat } from '../logging';
import type { BackfillProgress } from '../options';

/** The exit codes of `goal-backfill`, documented in docs/cli.md. */
export const EXIT_CODES = {
  /** The command did all it was asked. */
  ok: 0,
  /** The run finished, but some sessions failed; also any unexpected error. */
  failed: 1,
  /**
   * Bad usage or configuration: a flag, DATABASE_URL, the embedded database's folder (or a full
   * disk under it), an unreachable database, a missing schema.
   */
  usage: 2,
  /**
   * Another backfill or rollback holds the lock, another process has the embedded database open,
   * or app transactions kept therapy_sessions locked while a run started its change capture.
   */
  locked: 3,
  /** Stopped by SIGINT or SIGTERM (128 + 2, as shells report Ctrl-C). */
  interrupted: 130,
} as const;

/** Everything the CLI reads from and writes to its process. bin.ts passes the real ones. */
export interface CliIo {
  /** Reports: the run summary, `--json` output, help and version. */
  stdout: Writable;
  /** Logs, progress, warnings and errors. */
  stderr: Writable;
  /** Where DATABASE_URL is read from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal, which turns progress lines into a live bar. @default false */
  isTTY?: boolean;
  /** Aborted on SIGINT or SIGTERM: `run` stops after the current page and keeps its checkpoint. */
  signal?: AbortSignal;
}

/** One invocation's state, created by `main` and shared with the command it runs. */
export interface CliContext {
  /** The command line as typed, for the checks that need more than yargs' parse of it. */
  readonly argv: readonly string[];
  readonly io: CliIo;
  readonly signal: AbortSignal;
  /** Set by the command that ran. */
  exitCode: number;
}

/** What main hands a command's action beside its checked flags. */
export interface CommandTools {
  output: CliOutput;
  /** Opens the database (see main's withDatabase), hands it to `work`, and closes it. */
  withDatabase<T>(work: (knex: Knex) => Promise<T>, options?: CliDatabaseOptions): Promise<T>;
}

/**
 * A command as its file declares it: yargs' description and builder, and an action that calls
 * the library, renders the result and answers the exit code. main turns the action into the
 * handler, which owns the error path.
 */
export interface CliCommand<Args> extends Omit<CommandModule<object, Args>, 'handler'> {
  action(args: ArgumentsCamelCase<Args>, tools: CommandTools): Promise<number>;
}

/** The flags every command accepts that shape its output. */
export interface OutputFlags {
  /** `--verbose`: debug logging, and stack traces on unexpected errors. @default false */
  verbose: boolean;
  /** `--log-format`: how stderr lines are written. @default GOAL_BACKFILL_LOG_FORMAT, else 'text' */
  logFormat: LogFormat;
}

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
  /** Runs `work`, warning `text` once if the first SIGINT or SIGTERM arrives meanwhile. */
  warnOnAbort<T>(text: string, work: () => Promise<T>): Promise<T>;
}

/** Builds the output of one command on `out`, at debug level under --verbose. */
export function openCliOutput(out: Writable, signal: AbortSignal, flags: OutputFlags): CliOutput {
  const stderr = new StderrLines(out);
  const format = flags.logFormat;
  const logger = createLogger({ level: flags.verbose ? 'debug' : 'info', format, stream: stderr });
  const notices = createNotices(format, stderr, logger);
  return {
    logger,
    notices,
    stderr,
    warnOnAbort: (text, work) => {
      const announce = () => notices.warn(text);
      signal.addEventListener('abort', announce, { once: true });
      return work().finally(() => signal.removeEventListener('abort', announce));
    },
  };
}

/** What the bar shows: sessions done / total, the rate and the time left. Fits 80 columns. */
export const PROGRESS_BAR_FORMAT =
  '{bar} {percentage}% | {value}/{total} sessions | {rate} sessions/s | ETA {eta_formatted}';

/**
 * A live cli-progress bar on a terminal's stderr, fed from the backfill's onProgress. It starts
 * on the first report (which brings the total); while it is drawn, the log lines written to
 * `lines` appear above it (cli-progress's `log()`).
 */
export class TerminalProgressBar {
  private bar: SingleBar | null = null;
  private sessionsBeforeThisInvocation = 0;

  constructor(
    private readonly stderr: Writable,
    private readonly lines: StderrLines,
    /** Sessions per page, to tell a resumed run's earlier sessions from this invocation's. */
    private readonly batchSize: number,
  ) {}

  update(progress: BackfillProgress): void {
    if (this.bar === null) this.start(progress);
    // The rate of this invocation: a resumed run's earlier sessions took no time here.
    const sessions = progress.sessionsProcessed - this.sessionsBeforeThisInvocation;
    const rate = progress.elapsedMs > 0 ? sessions / (progress.elapsedMs / 1000) : null;
    this.bar?.update(progress.sessionsProcessed, {
      rate: rate === null ? '-' : Math.round(rate).toLocaleString('en-US'),
    });
  }

  /** Draws the final state and gives the line back. Safe to call when the bar never started. */
  stop(): void {
    const bars = this.lines.bar;
    if (bars === null) return;
    // stop() draws the bar but drops log lines still waiting for a redraw; update() prints them.
    bars.update();
    bars.stop();
    this.bar = null;
    this.lines.bar = null;
  }

  private start(first: BackfillProgress): void {
    // The first report comes after one page; a resumed run's counts include earlier pages.
    this.sessionsBeforeThisInvocation = Math.max(
      0,
      first.sessionsProcessed - Math.min(this.batchSize, first.sessionsProcessed),
    );
    // Loaded only when a bar is drawn (stderr is a terminal): a run in a pipe or a job never
    // pays for it at its start.
    const { MultiBar: Bars } = require('cli-progress') as typeof import('cli-progress');
    const bars = new Bars({
      stream: this.stderr,
      format: PROGRESS_BAR_FORMAT,
      barsize: 20,
      hideCursor: false,
      gracefulExit: false,
    });
    this.bar = bars.create(
      Math.max(first.totalSessions, first.sessionsProcessed),
      this.sessionsBeforeThisInvocation,
      { rate: '-' },
    );
    this.lines.bar = bars;
  }
}

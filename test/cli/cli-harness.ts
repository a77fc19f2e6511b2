import { Writable } from 'node:stream';
import { main } from '../../src/cli/main';

/** The CLI needs a PostgreSQL server (DATABASE_URL); an embedded-only test run skips these. */
export const withoutServer = process.env.TEST_DIALECT === 'pglite';

/** A stream that keeps what was written, and can watch it as it arrives. */
export class CapturedStream extends Writable {
  text = '';
  /** What a terminal says of itself; cli-progress draws only on a TTY. */
  isTTY = false;

  constructor(private readonly onText?: (text: string, chunk: string) => void) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    const piece = chunk.toString('utf8');
    this.text += piece;
    this.onText?.(this.text, piece);
    done();
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  env?: Record<string, string | undefined>;
  isTTY?: boolean;
  signal?: AbortSignal;
  /** Sees stderr as it grows, e.g. to abort after the first progress line. */
  onStderr?: (text: string, chunk: string) => void;
}

/** Runs the CLI in-process on `argv`, as `goal-backfill ...argv`, capturing its output. */
export async function runCli(argv: string[], options: CliRunOptions = {}): Promise<CliRun> {
  const stdout = new CapturedStream();
  const stderr = new CapturedStream(options.onStderr);
  stderr.isTTY = options.isTTY ?? false;
  const code = await main(argv, {
    stdout,
    stderr,
    env: options.env ?? {},
    isTTY: options.isTTY ?? false,
    signal: options.signal,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The stderr lines, without the empty last one. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/**
 * A stderr line as the plain text format writes it: a `cli.error` or `cli.warning` JSON event
 * (`--log-format json`) becomes `goal-backfill: error: <notice>` or `goal-backfill: WARNING:
 * <notice>`, any other line stays as it is. For checks that hold in both formats.
 */
export function asPlainLine(line: string): string {
  if (!line.startsWith('{')) return line;
  const event = JSON.parse(line) as { message?: unknown; notice?: unknown; code?: unknown };
  const code = typeof event.code === 'string' ? ` [${event.code}]` : '';
  if (event.message === 'cli.error') return `goal-backfill: error: ${String(event.notice)}${code}`;
  if (event.message === 'cli.warning') return `goal-backfill: WARNING: ${String(event.notice)}`;
  return line;
}

/** Whether `argv` asks for JSON lines, as the CLI reads it (`--log-format json`). */
export function asksForJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const args = argv.slice(0, end === -1 ? undefined : end);
  const given = args.flatMap((arg, index) =>
    arg === '--log-format'
      ? [args[index + 1]]
      : arg.startsWith('--log-format=')
        ? [arg.slice(13)]
        : [],
  );
  return given.length > 0 && given.every((format) => format === 'json');
}

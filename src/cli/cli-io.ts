import type { Writable } from 'node:stream';

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
  readonly io: CliIo;
  readonly signal: AbortSignal;
  /** Set by the command that ran. */
  exitCode: number;
}

import type { Writable } from 'node:stream';
import { describeErrorSafely } from '../db/safe-error';
import { BackfillLockedError } from '../errors/backfill-locked-error';
import { ChangeCaptureBlockedError } from '../errors/change-capture-blocked-error';
import { ConfigError } from '../errors/config-error';
import { DatabaseUnreachableError } from '../errors/database-unreachable-error';
import { EmbeddedDatabaseBusyError } from '../errors/embedded-database-busy-error';
import { EmbeddedStorageError } from '../errors/embedded-storage-error';
import { GoalBackfillError } from '../errors/goal-backfill-error';
import { SchemaNotReadyError } from '../errors/schema-not-ready-error';
import { UsageError } from '../errors/usage-error';
import { renderFailureTrace } from '../report/failure-trace';
import { cliLogFormat, type GlobalFlags } from './cli-options';
import { type CliOutput, openCliOutput } from './output/cli-output';

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

/** The exit code for an error that stopped a command. */
export function exitCodeForError(err: unknown): number {
  const usage = [
    UsageError,
    ConfigError,
    DatabaseUnreachableError,
    EmbeddedStorageError,
    SchemaNotReadyError,
  ];
  if (
    err instanceof BackfillLockedError ||
    err instanceof EmbeddedDatabaseBusyError ||
    err instanceof ChangeCaptureBlockedError
  ) {
    return EXIT_CODES.locked;
  }
  return usage.some((type) => err instanceof type) ? EXIT_CODES.usage : EXIT_CODES.failed;
}

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

/** Prints one safe line for `err` (and its trace under --verbose) and answers the exit code. */
function reportFailure(err: unknown, context: CliContext, output: CliOutput, verbose: boolean) {
  const safe = describeErrorSafely(err);
  if (err instanceof BackfillLockedError && context.signal.aborted) {
    output.notices.error(`interrupted while waiting for the lock; nothing was written`, safe.code);
    return EXIT_CODES.interrupted;
  }
  const hint =
    err instanceof GoalBackfillError || verbose ? undefined : 'rerun with --verbose for a trace';
  output.notices.error(safe.message, err instanceof UsageError ? null : safe.code, hint);
  if (verbose) output.notices.detail(renderFailureTrace(err));
  return exitCodeForError(err);
}

/**
 * Turns a command's action (call the library with its checked flags, render, answer the exit
 * code) into a yargs handler that owns the error path: any error becomes one safe stderr line
 * and an exit code on the context. Nothing else in the CLI catches, prints and exits.
 */
export function wrapHandler<T extends Partial<GlobalFlags>>(
  context: CliContext,
  action: (args: T, output: CliOutput) => Promise<number>,
): (args: T) => Promise<void> {
  return async (args) => {
    const verbose = args.verbose === true;
    const flags: GlobalFlags = { verbose, logFormat: cliLogFormat(context.argv, context.io.env) };
    const output = openCliOutput(context.io.stderr, context.signal, flags);
    try {
      context.exitCode = await action(args, output);
    } catch (err) {
      context.exitCode = reportFailure(err, context, output, verbose);
    }
  };
}

import { describeErrorSafely } from '../db/safe-error';
import { BackfillLockedError } from '../errors/backfill-locked-error';
import { GoalBackfillError } from '../errors/goal-backfill-error';
import type { CliContext } from './cli-io';
import { EXIT_CODES, exitCodeForError } from './exit-codes';
import type { GlobalFlags } from './cli-options';
import { type CliOutput, openCliOutput } from './output/cli-output';
import { renderFailureTrace } from './render/failure-trace';
import { UsageError } from './usage-error';

/** A command's work: call the library with its checked flags, render, answer the exit code. */
export type CommandAction<T> = (args: T, output: CliOutput) => Promise<number>;

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
 * Turns a command's action into a yargs handler that owns the error path: it opens the
 * command's output, runs the action, and turns any error into one safe stderr line and an exit
 * code on the context. Nothing else in the CLI catches, prints and exits.
 */
export function wrapHandler<T extends Partial<GlobalFlags>>(
  context: CliContext,
  action: CommandAction<T>,
): (args: T) => Promise<void> {
  return async (args) => {
    const flags: GlobalFlags = {
      verbose: args.verbose === true,
      logFormat: args.logFormat === 'json' ? 'json' : 'text',
    };
    const output = openCliOutput(context.io, flags);
    try {
      context.exitCode = await action(args, output);
    } catch (err) {
      context.exitCode = reportFailure(err, context, output, flags.verbose);
    }
  };
}

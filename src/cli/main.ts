import { describeErrorSafely } from '../db/safe-error';
import { buildParser } from './build-parser';
import type { CliContext, CliIo } from './cli-io';
import { EXIT_CODES } from './exit-codes';
import { findLooseBooleans, helpCommandFor } from './flags/strict-booleans';
import { UsageError } from './usage-error';

/**
 * Runs `goal-backfill` with `argv` (the arguments after the script name) and answers the exit
 * code. It never exits the process: bin.ts does, and tests call this directly.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const context: CliContext = {
    io,
    signal: io.signal ?? new AbortController().signal,
    exitCode: EXIT_CODES.ok,
  };
  try {
    const looseBooleans = findLooseBooleans(argv);
    if (looseBooleans.length > 0) {
      throw new UsageError(`${looseBooleans.join('; ')}; see '${helpCommandFor(argv)}'`);
    }
    await buildParser(context, argv).parseAsync([...argv], {}, (_error, _parsed, output) => {
      // Help and version text arrive here instead of yargs printing them itself.
      if (output) io.stdout.write(`${output}\n`);
    });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`goal-backfill: error: ${err.message}\n`);
      return EXIT_CODES.usage;
    }
    io.stderr.write(`goal-backfill: error: ${describeErrorSafely(err).message}\n`);
    return EXIT_CODES.failed;
  }
  return context.exitCode;
}

import type { Argv } from 'yargs';
import yargs from 'yargs/yargs';
import type { CliContext } from './cli-io';
import { rollbackCommand } from './commands/rollback-command';
import { runCommand } from './commands/run-command';
import { statusCommand } from './commands/status-command';
import { GLOBAL_OPTIONS } from './flags/global-flags';
import { ROLLBACK_OPTIONS } from './flags/rollback-flags';
import { RUN_OPTIONS } from './flags/run-flags';
import { STATUS_OPTIONS } from './flags/status-flags';
import { readPackageVersion } from './package-version';
import { UsageError } from './usage-error';
import { describeUsageFailure, typedCommand } from './usage-message';

/** The flags each command accepts besides the global ones, for suggestions. */
const COMMAND_FLAGS: Readonly<Record<string, readonly string[]>> = {
  run: Object.keys(RUN_OPTIONS),
  rollback: Object.keys(ROLLBACK_OPTIONS),
  status: Object.keys(STATUS_OPTIONS),
};

/** The flags the typed command (run when none) accepts. */
function knownFlags(argv: readonly string[]): string[] {
  const command = typedCommand(argv) ?? 'run';
  return [...Object.keys(GLOBAL_OPTIONS), 'help', 'version', ...(COMMAND_FLAGS[command] ?? [])];
}

/**
 * The yargs parser for one invocation. Strict: unknown commands, flags and bad values fail with
 * a UsageError whose message is one line saying what to fix. It never exits the process.
 */
export function buildParser(context: CliContext, argv: readonly string[]): Argv {
  return yargs()
    .scriptName('goal-backfill')
    .detectLocale(false)
    .locale('en')
    .exitProcess(false)
    .strict()
    .showHelpOnFail(false)
    .wrap(100)
    .options(GLOBAL_OPTIONS)
    .command(runCommand(context))
    .command(rollbackCommand(context))
    .command(statusCommand(context))
    .version('version', 'Show the version number', readPackageVersion())
    .help('help', 'Show help')
    .alias('help', 'h')
    .epilogue(
      'Exit codes: 0 done; 1 some sessions failed (or an unexpected error); 2 bad usage, ' +
        'configuration, unreachable database or missing schema; 3 another backfill holds the lock; ' +
        '130 interrupted. DATABASE_URL names the database. See docs/cli.md.',
    )
    .fail((message, error) => {
      // yargs' own validation errors are YErrors or plain messages; anything else is not usage.
      if (error && error.name !== 'YError') throw error;
      const text = message ?? error?.message ?? 'invalid command line';
      throw new UsageError(describeUsageFailure(text, argv, knownFlags(argv)));
    });
}

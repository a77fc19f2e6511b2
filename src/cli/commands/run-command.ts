import type { Knex } from 'knex';
import type { Argv, CommandModule } from 'yargs';
import type { BackfillResult } from '../../backfill/backfill-result';
import { runBackfill } from '../../backfill/run-backfill';
import { findResumableRun } from '../../status/backfill-status';
import type { CliContext } from '../cli-io';
import { withDatabase } from '../database/with-database';
import type { GlobalFlags } from '../flags/global-flags';
import { parseRunFlags, RUN_OPTIONS, type RunFlags } from '../flags/run-flags';
import { announceOnAbort } from '../output/announce-on-abort';
import type { CliOutput } from '../output/cli-output';
import { ErrorLogFile } from '../output/error-log-file';
import type { Notices } from '../output/notices';
import { TerminalProgressBar } from '../progress/terminal-progress-bar';
import { renderRunSummary } from '../render/run-summary';
import { renderRunSummaryJson } from '../render/run-summary-json';
import { wrapHandler } from '../wrap-handler';
import { concludeRun } from './run-outcome';

/** A dry run counts from the start; say so when a real run would resume instead. */
async function noteResumableRun(knex: Knex, notices: Notices): Promise<void> {
  const resumableRun = await findResumableRun(knex);
  if (resumableRun === null) return;
  notices.warn(
    `run ${resumableRun.id} was interrupted and a real run would resume it; this dry run counts ` +
      'every session from the start, as `goal-backfill run --from-start` would',
  );
}

async function backfill(
  knex: Knex,
  flags: RunFlags & GlobalFlags,
  context: CliContext,
  output: CliOutput,
): Promise<BackfillResult> {
  if (flags.dryRun) await noteResumableRun(knex, output.notices);
  const errorLog = flags.errorLog === null ? null : ErrorLogFile.open(flags.errorLog);
  const bar = context.io.isTTY
    ? new TerminalProgressBar(context.io.stderr, output.stderr, flags.batchSize)
    : null;
  const stopListening = announceOnAbort(
    context.signal,
    output.notices,
    'stopping after the current page (press Ctrl-C again to stop at once)',
  );
  try {
    return await runBackfill({
      knex,
      logger: output.logger,
      invokedBy: 'cli',
      dryRun: flags.dryRun,
      batchSize: flags.batchSize,
      fromStart: flags.fromStart,
      // On a terminal the bar shows progress; log lines would only break it up.
      progressEvery: bar === null ? flags.progressEvery : 0,
      lockWaitMs: flags.lockWaitMs,
      statementTimeoutMs: flags.statementTimeoutMs,
      lockTimeoutMs: flags.lockTimeoutMs,
      pauseMs: flags.pauseMs,
      maxSessionsPerSecond: flags.maxSessionsPerSecond,
      logSessionDecisions: flags.verbose,
      signal: context.signal,
      onProgress: bar === null ? undefined : (progress) => bar.update(progress),
      onSessionFailed: errorLog === null ? undefined : (failure) => errorLog.write(failure),
    });
  } finally {
    stopListening();
    bar?.stop();
    errorLog?.close();
  }
}

/**
 * `goal-backfill run`: backfills the goals (or, with --dry-run, counts them), prints the
 * summary, and answers the exit code.
 */
export async function executeRun(
  flags: RunFlags & GlobalFlags,
  context: CliContext,
  output: CliOutput,
): Promise<number> {
  const result = await withDatabase(context.io.env, (knex) =>
    backfill(knex, flags, context, output),
  );
  context.io.stdout.write(
    flags.json
      ? renderRunSummaryJson(result, flags.errorLog)
      : renderRunSummary(result, { errorLogPath: flags.errorLog }),
  );
  return concludeRun(result, flags.errorLog, output.notices);
}

/** The yargs command for `run`, the default command. */
export function runCommand(context: CliContext): CommandModule {
  return {
    command: ['run', '$0'],
    describe: 'Backfill treatment_goals from the sessions (the default command)',
    builder: (yargs: Argv) => yargs.options(RUN_OPTIONS),
    handler: wrapHandler(context, (argv, output, globals) =>
      executeRun({ ...parseRunFlags(argv), ...globals }, context, output),
    ),
  };
}

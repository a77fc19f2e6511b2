import type { Argv, CommandModule } from 'yargs';
import { getBackfillStatus } from '../../status/backfill-status';
import type { CliContext } from '../cli-io';
import { withDatabase } from '../database/with-database';
import { EXIT_CODES } from '../exit-codes';
import { parseStatusFlags, STATUS_OPTIONS, type StatusFlags } from '../flags/status-flags';
import { announceOnAbort } from '../output/announce-on-abort';
import type { CliOutput } from '../output/cli-output';
import { renderStatusJson, renderStatusReport } from '../render/status-report';
import { wrapHandler } from '../wrap-handler';

/** `goal-backfill status`: recent runs, goal counts, the lock, and whether a run can resume. */
export async function executeStatus(
  flags: StatusFlags,
  context: CliContext,
  output: CliOutput,
): Promise<number> {
  const stopListening = announceOnAbort(
    context.signal,
    output.notices,
    'status finishes its reads; press Ctrl-C again to stop at once',
  );
  const status = await withDatabase(context.io.env, (knex) =>
    getBackfillStatus({ knex, limit: flags.limit }),
  ).finally(stopListening);
  context.io.stdout.write(flags.json ? renderStatusJson(status) : renderStatusReport(status));
  return EXIT_CODES.ok;
}

/** The yargs command for `status`. */
export function statusCommand(context: CliContext): CommandModule {
  return {
    command: 'status',
    describe: 'Show recent runs, goal counts, the lock holder and whether a run can resume',
    builder: (yargs: Argv) => yargs.options(STATUS_OPTIONS),
    handler: wrapHandler(context, (argv, output) =>
      executeStatus(parseStatusFlags(argv), context, output),
    ),
  };
}

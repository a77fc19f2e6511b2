import type { CommandModule } from 'yargs';
import { getBackfillStatus } from '../../status/backfill-status';
import { declareOptions, EXIT_CODES_EPILOGUE, flag, type GlobalFlags } from '../cli-options';
import { withDatabase } from '../database/with-database';
import { EXIT_CODES } from '../exit-codes';
import { renderStatusJson, renderStatusReport } from '../../report/status-report';
import { type CliContext, wrapHandler } from '../wrap-handler';

/** `status`'s own flags; `--limit` comes from the option spec. */
export const STATUS_OPTIONS = {
  json: flag('Print only the status to stdout, as one JSON object'),
} as const;

/** `status`'s flags as yargs parsed and checked them. */
interface StatusArgs extends Partial<GlobalFlags> {
  json?: boolean;
  limit: number;
}

/** `goal-backfill status`: recent runs, goal counts, the lock, and whether a run can resume. */
export function statusCommand(context: CliContext): CommandModule<object, StatusArgs> {
  return {
    command: 'status',
    describe: 'Show recent runs, goal counts, the lock holder and whether a run can resume',
    builder: (yargs) =>
      declareOptions(yargs, STATUS_OPTIONS, ['limit'])
        .usage('Usage: goal-backfill status [options]\n\nShow where the backfill stands.')
        .example('goal-backfill status', 'Goal counts, the lock, the last 10 runs')
        .example('goal-backfill status --json --limit 50', 'The same as JSON, 50 runs')
        .epilogue(EXIT_CODES_EPILOGUE) as never,
    handler: wrapHandler(context, async (args, output) => {
      const stopListening = output.onAbort(
        context.signal,
        'status finishes its reads; press Ctrl-C again to stop at once',
      );
      const status = await withDatabase(context.io.env, (knex) =>
        getBackfillStatus({ knex, limit: args.limit }),
      ).finally(stopListening);
      context.io.stdout.write(args.json ? renderStatusJson(status) : renderStatusReport(status));
      return EXIT_CODES.ok;
    }),
  };
}

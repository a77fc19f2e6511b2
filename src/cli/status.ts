import { renderStatusJson, renderStatusReport } from '../report';
import { getBackfillStatus } from '../status';
import { declareOptions, flag, type GlobalFlags, type NumericFlags, numericFlags } from './flags';
import { type CliCommand, type CliContext, EXIT_CODES } from './output';

/** `status`'s own flags; `--limit` comes from the option spec. */
export const STATUS_OPTIONS = {
  json: flag('Print only the status to stdout, as one JSON object'),
} as const;

interface StatusArgs extends Partial<GlobalFlags>, NumericFlags<'status'> {
  json?: boolean;
}

/** `goal-backfill status`: recent runs, goal counts, the lock, and whether a run can resume. */
export function statusCommand(context: CliContext): CliCommand<StatusArgs> {
  return {
    command: 'status',
    describe: 'Show recent runs, goal counts, the lock holder and whether a run can resume',
    builder: (yargs) =>
      declareOptions(yargs, 'status', context, STATUS_OPTIONS)
        .usage('Usage: goal-backfill status [options]\n\nShow where the backfill stands.')
        .example('goal-backfill status', 'Goal counts, the lock, the last 10 runs')
        .example('goal-backfill status --json --limit 50', 'The same as JSON, 50 runs') as never,
    action: async (args, { output, withDatabase }) => {
      const stopping = 'status finishes its reads; press Ctrl-C again to stop at once';
      const status = await output.warnOnAbort(stopping, () =>
        withDatabase((knex) => getBackfillStatus({ knex, ...numericFlags('status', args) }), {
          schema: args.schema,
          logger: output.logger,
        }),
      );
      context.io.stdout.write(args.json ? renderStatusJson(status) : renderStatusReport(status));
      return EXIT_CODES.ok;
    },
  };
}

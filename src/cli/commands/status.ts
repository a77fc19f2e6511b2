import type { CommandModule } from 'yargs';
import { renderStatusJson, renderStatusReport } from '../../report/status-report';
import { getBackfillStatus } from '../../status/backfill-status';
import { declareOptions, flag, type GlobalFlags } from '../cli-options';
import { withDatabase } from '../database/create-cli-knex';
import { type CliContext, EXIT_CODES, wrapHandler } from '../wrap-handler';

/** `status`'s own flags; `--limit` comes from the option spec. */
export const STATUS_OPTIONS = {
  json: flag('Print only the status to stdout, as one JSON object'),
} as const;

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
      declareOptions(yargs, 'status', context, STATUS_OPTIONS, ['limit'])
        .usage('Usage: goal-backfill status [options]\n\nShow where the backfill stands.')
        .example('goal-backfill status', 'Goal counts, the lock, the last 10 runs')
        .example('goal-backfill status --json --limit 50', 'The same as JSON, 50 runs') as never,
    handler: wrapHandler(context, async (args, output) => {
      const stopping = 'status finishes its reads; press Ctrl-C again to stop at once';
      const status = await output.warnOnAbort(stopping, () =>
        withDatabase(context.io.env, (knex) => getBackfillStatus({ knex, limit: args.limit }), {
          schema: args.schema,
          logger: output.logger,
        }),
      );
      context.io.stdout.write(args.json ? renderStatusJson(status) : renderStatusReport(status));
      return EXIT_CODES.ok;
    }),
  };
}

import type { Knex } from 'knex';
import { renderRollbackJson, renderRollbackReport } from '../report';
import { rollbackBackfill } from '../rollback';
import { getBackfillStatus } from '../status';
import { declareOptions, flag, type GlobalFlags, type NumericFlags, numericFlags } from './flags';
import { type CliCommand, type CliContext, type CliOutput, EXIT_CODES } from './output';

/** `rollback`'s own flags; its numeric options come from the option spec. */
export const ROLLBACK_OPTIONS = {
  'dry-run': flag('Say how many goals would be deleted and kept, and delete nothing'),
  'include-changed': flag(
    'Also delete backfilled goals that clinicians have changed (warns first)',
  ),
  json: flag('Print only the result to stdout, as one JSON object'),
} as const;

type RollbackArgs = Partial<GlobalFlags> &
  NumericFlags<'rollback'> & {
    dryRun?: boolean;
    includeChanged?: boolean;
    json?: boolean;
  };

async function rollback(knex: Knex, args: RollbackArgs, context: CliContext, output: CliOutput) {
  const dryRun = args.dryRun === true;
  const includeChanged = args.includeChanged === true;
  if (includeChanged) {
    // Said before anything is deleted: clinicians' changes are about to go.
    const { goals } = await getBackfillStatus({ knex, limit: 1 });
    output.notices.warn(
      dryRun
        ? `--include-changed: a real rollback would also delete the ${goals.changedBackfill} ` +
            'backfilled goal(s) that clinicians have changed; this dry run deletes nothing'
        : `--include-changed: also deleting the ${goals.changedBackfill} backfilled goal(s) that ` +
            'clinicians have changed; their changes cannot be recovered',
    );
  }
  const stopping =
    'a rollback finishes its batches; press Ctrl-C again to stop at once ' +
    '(deleted goals stay deleted; run the rollback again to finish)';
  return output.warnOnAbort(stopping, () =>
    rollbackBackfill({
      knex,
      logger: output.logger,
      dryRun,
      includeChanged,
      ...numericFlags('rollback', args),
      signal: context.signal,
    }),
  );
}

/** `goal-backfill rollback`: deletes the backfilled goals as the migration's down does. */
export function rollbackCommand(context: CliContext): CliCommand<RollbackArgs> {
  return {
    command: 'rollback',
    describe: 'Delete the backfilled goals nobody changed; clinician goals always stay',
    builder: (yargs) =>
      declareOptions(yargs, 'rollback', context, ROLLBACK_OPTIONS)
        .usage(
          'Usage: goal-backfill rollback [options]\n\nDelete the backfilled goals nobody changed.',
        )
        .example('goal-backfill rollback --dry-run', 'Count what would be deleted and kept')
        .example('goal-backfill rollback --lock-wait-ms 60000', 'Wait up to a minute for a run')
        .example(
          'goal-backfill rollback --include-changed --json',
          'Also delete changed goals',
        ) as never,
    action: async (args, { output, withDatabase }) => {
      const result = await withDatabase((knex) => rollback(knex, args, context, output), {
        schema: args.schema,
        logger: output.logger,
      });
      context.io.stdout.write(
        args.json ? renderRollbackJson(result) : renderRollbackReport(result),
      );
      return EXIT_CODES.ok;
    },
  };
}

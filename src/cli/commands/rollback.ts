import type { Knex } from 'knex';
import type { CommandModule } from 'yargs';
import { renderRollbackJson, renderRollbackReport } from '../../report/rollback-report';
import { rollbackBackfill } from '../../rollback/rollback-backfill';
import { getBackfillStatus } from '../../status/backfill-status';
import { declareOptions, flag, type GlobalFlags } from '../cli-options';
import { withDatabase } from '../database/create-cli-knex';
import type { CliOutput } from '../output/cli-output';
import { type CliContext, EXIT_CODES, wrapHandler } from '../wrap-handler';

/** `rollback`'s own flags; its numeric options come from the option spec. */
export const ROLLBACK_OPTIONS = {
  'dry-run': flag('Say how many goals would be deleted and kept, and delete nothing'),
  'include-changed': flag(
    'Also delete backfilled goals that clinicians have changed (warns first)',
  ),
  json: flag('Print only the result to stdout, as one JSON object'),
} as const;

type RollbackArgs = Partial<GlobalFlags> &
  Record<'batchSize' | 'lockWaitMs', number> & {
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
      batchSize: args.batchSize,
      lockWaitMs: args.lockWaitMs,
      signal: context.signal,
    }),
  );
}

/** `goal-backfill rollback`: deletes the backfilled goals as the migration's down does. */
export function rollbackCommand(context: CliContext): CommandModule<object, RollbackArgs> {
  return {
    command: 'rollback',
    describe: 'Delete the backfilled goals nobody changed; clinician goals always stay',
    builder: (yargs) =>
      declareOptions(yargs, 'rollback', context, ROLLBACK_OPTIONS, ['batchSize', 'lockWaitMs'])
        .usage(
          'Usage: goal-backfill rollback [options]\n\nDelete the backfilled goals nobody changed.',
        )
        .example('goal-backfill rollback --dry-run', 'Count what would be deleted and kept')
        .example('goal-backfill rollback --lock-wait-ms 60000', 'Wait up to a minute for a run')
        .example(
          'goal-backfill rollback --include-changed --json',
          'Also delete changed goals',
        ) as never,
    handler: wrapHandler(context, async (args, output) => {
      const result = await withDatabase(
        context.io.env,
        (knex) => rollback(knex, args, context, output),
        { schema: args.schema, logger: output.logger },
      );
      context.io.stdout.write(
        args.json ? renderRollbackJson(result) : renderRollbackReport(result),
      );
      return EXIT_CODES.ok;
    }),
  };
}

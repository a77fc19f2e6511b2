import type { Knex } from 'knex';
import type { Argv, CommandModule } from 'yargs';
import { type RollbackResult, rollbackBackfill } from '../../rollback/rollback-backfill';
import { getBackfillStatus } from '../../status/backfill-status';
import type { CliContext } from '../cli-io';
import { withDatabase } from '../database/with-database';
import { EXIT_CODES } from '../exit-codes';
import { parseRollbackFlags, ROLLBACK_OPTIONS, type RollbackFlags } from '../flags/rollback-flags';
import { announceOnAbort } from '../output/announce-on-abort';
import type { CliOutput } from '../output/cli-output';
import { renderRollbackJson, renderRollbackReport } from '../render/rollback-report';
import { wrapHandler } from '../wrap-handler';

/** Warns, before anything is deleted, that clinicians' changes are about to go. */
async function warnIncludeChanged(knex: Knex, flags: RollbackFlags, output: CliOutput) {
  const { goals } = await getBackfillStatus({ knex, limit: 1 });
  output.notices.warn(
    flags.dryRun
      ? `--include-changed: a real rollback would also delete the ${goals.changedBackfill} ` +
          'backfilled goal(s) that clinicians have changed; this dry run deletes nothing'
      : `--include-changed: also deleting the ${goals.changedBackfill} backfilled goal(s) that ` +
          'clinicians have changed; their changes cannot be recovered',
  );
}

async function rollback(
  knex: Knex,
  flags: RollbackFlags,
  context: CliContext,
  output: CliOutput,
): Promise<RollbackResult> {
  if (flags.includeChanged) await warnIncludeChanged(knex, flags, output);
  const stopListening = announceOnAbort(
    context.signal,
    output.notices,
    'a rollback finishes its batches; press Ctrl-C again to stop at once ' +
      '(deleted goals stay deleted; run the rollback again to finish)',
  );
  try {
    return await rollbackBackfill({
      knex,
      logger: output.logger,
      dryRun: flags.dryRun,
      includeChanged: flags.includeChanged,
      batchSize: flags.batchSize,
      lockWaitMs: flags.lockWaitMs,
      signal: context.signal,
    });
  } finally {
    stopListening();
  }
}

/** `goal-backfill rollback`: deletes the backfilled goals as the migration's down does. */
export async function executeRollback(
  flags: RollbackFlags,
  context: CliContext,
  output: CliOutput,
): Promise<number> {
  const result = await withDatabase(context.io.env, (knex) =>
    rollback(knex, flags, context, output),
  );
  context.io.stdout.write(flags.json ? renderRollbackJson(result) : renderRollbackReport(result));
  return EXIT_CODES.ok;
}

/** The yargs command for `rollback`. */
export function rollbackCommand(context: CliContext): CommandModule {
  return {
    command: 'rollback',
    describe: 'Delete the backfilled goals nobody changed; clinician goals always stay',
    builder: (yargs: Argv) => yargs.options(ROLLBACK_OPTIONS),
    handler: wrapHandler(context, (argv, output) =>
      executeRollback(parseRollbackFlags(argv), context, output),
    ),
  };
}

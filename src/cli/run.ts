import { closeSync, openSync, writeSync } from 'node:fs';
import type { Knex } from 'knex';
import { runBackfill } from '../backfill/run';
import type { BackfillResult } from '../backfill/store';
import type { SessionFailure } from '../errors';
import { UsageError } from '../errors';
import { TABLES } from '../names';
import { errorLogLine, renderRunSummary, renderRunSummaryJson } from '../report';
import { findResumableRun } from '../status';
import { declareOptions, flag, type GlobalFlags, type NumericFlags } from './flags';
import {
  type CliCommand,
  type CliContext,
  type CliOutput,
  EXIT_CODES,
  TerminalProgressBar,
} from './output';

/** `run`'s own flags; its numeric options come from the option spec. */
export const RUN_OPTIONS = {
  'dry-run': flag('Count what a real run would do and write nothing at all'),
  json: flag('Print only the summary to stdout, as one JSON object'),
  'error-log': {
    type: 'string',
    requiresArg: true,
    describe: '<file>  Write one JSON line per failed session to this file',
  },
  'from-start': flag("Ignore an interrupted run's checkpoint and start over"),
  'health-query': {
    type: 'string',
    requiresArg: true,
    describe: '<sql>  Run after each page; its first value is milliseconds to wait (back-off)',
  },
} as const;

/**
 * The `--error-log` file: created (or emptied) when opened, one JSON line per failed session,
 * each written at once so a killed run keeps the lines it had.
 */
export class ErrorLogFile {
  private constructor(private readonly fd: number) {}

  /** Opens `path` for writing. Throws a UsageError when it cannot be created. */
  static open(path: string): ErrorLogFile {
    try {
      return new ErrorLogFile(openSync(path, 'w', 0o600));
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      throw new UsageError(
        `cannot write the error log ${path} (${String(code ?? 'error')}): give a path in a directory you can write to`,
        { cause },
      );
    }
  }

  write(failure: SessionFailure): void {
    writeSync(this.fd, errorLogLine(failure));
  }

  close(): void {
    closeSync(this.fd);
  }
}

type RunArgs = GlobalFlags &
  NumericFlags<'run'> & {
    dryRun?: boolean;
    json?: boolean;
    errorLog?: string;
    fromStart?: boolean;
    healthQuery?: string;
  };

async function backfill(knex: Knex, args: RunArgs, context: CliContext, output: CliOutput) {
  const resumable = args.dryRun ? await findResumableRun(knex) : null;
  if (resumable !== null) {
    output.notices.warn(
      `run ${resumable.id} was interrupted and a real run would resume it; this dry run counts ` +
        'every session from the start, as `goal-backfill run --from-start` would',
    );
  }
  const errorLog = args.errorLog === undefined ? null : ErrorLogFile.open(args.errorLog);
  const bar = context.io.isTTY
    ? new TerminalProgressBar(context.io.stderr, output.stderr, args.batchSize)
    : null;
  const stopping = 'stopping after the current page (press Ctrl-C again to stop at once)';
  try {
    return await output.warnOnAbort(stopping, () =>
      runBackfill({
        ...args,
        knex,
        logger: output.logger,
        invokedBy: 'cli',
        dryRun: args.dryRun === true,
        fromStart: args.fromStart === true,
        // On a terminal the bar shows progress; log lines would only break it up.
        progressEvery: bar === null ? args.progressEvery : 0,
        logSessionDecisions: args.verbose,
        signal: context.signal,
        onProgress: bar === null ? undefined : (progress) => bar.update(progress),
        onSessionFailed: errorLog === null ? undefined : (failure) => errorLog.write(failure),
      }),
    );
  } finally {
    bar?.stop();
    errorLog?.close();
  }
}

/** Tells the operator what a finished or stopped run means for them, and answers the exit code. */
function conclude(result: BackfillResult, errorLog: string | null, output: CliOutput): number {
  const done = `${result.sessionsProcessed} of ${result.totalSessions} sessions`;
  if (result.outcome === 'interrupted') {
    output.notices.warn(
      result.dryRun
        ? `dry run interrupted after ${done}; nothing was written`
        : `run ${result.runId ?? ''} interrupted after ${done}; its checkpoint is kept. ` +
            'Run `goal-backfill run` to resume it, or `goal-backfill run --from-start` to start over',
    );
    return EXIT_CODES.interrupted;
  }
  if (result.errors === 0) return EXIT_CODES.ok;
  const table = `table ${TABLES.failures} (run_id = '${result.runId ?? ''}')`;
  output.notices.error(
    `${result.errors} session(s) failed and were rolled back; their ids and error codes are in ` +
      `${errorLog === null ? '' : `${errorLog} and in `}${table}. ` +
      'Fix the cause, then run `goal-backfill run` again: it retries them and recreates nothing',
    'SESSIONS_FAILED',
  );
  return EXIT_CODES.failed;
}

/**
 * `goal-backfill run`, the default command: backfill (or count), print the summary. `asDefault`
 * false registers it under its name only, so the top-level help shows no flags of its own.
 */
export function runCommand(context: CliContext, asDefault = true): CliCommand<RunArgs> {
  return {
    command: asDefault ? ['run', '$0'] : 'run',
    describe: `Backfill ${TABLES.goals} from the sessions (the default command)`,
    builder: (yargs) =>
      declareOptions(yargs, 'run', context, RUN_OPTIONS)
        .conflicts('dry-run', 'error-log')
        .usage(`Usage: goal-backfill run [options]\n\nBackfill ${TABLES.goals} from the sessions.`)
        .example('goal-backfill run --dry-run', 'Count what a run would do; write nothing')
        .example('goal-backfill run --json --error-log failed.jsonl', 'Run; summary as JSON')
        .example(
          'goal-backfill run --pause-ms 200',
          'Leave 200 ms to live traffic after each page',
        ) as never,
    action: async (args, { output, withDatabase }) => {
      const errorLog = args.errorLog ?? null;
      const result = await withDatabase((knex) => backfill(knex, args, context, output), {
        workers: args.workers,
        schema: args.schema,
        logger: output.logger,
      });
      context.io.stdout.write(
        args.json
          ? renderRunSummaryJson(result, errorLog)
          : renderRunSummary(result, { errorLogPath: errorLog }),
      );
      return conclude(result, errorLog, output);
    },
  };
}

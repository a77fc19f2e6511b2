import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { ArgumentsCamelCase, CommandModule } from 'yargs';
import yargs from 'yargs/yargs';
import { type CliDatabaseOptions, createCliKnex } from '../config/knex';
import { asDatabaseUnreachable, describeErrorSafely } from '../db/failures';
import { inSchema } from '../db/schema-scope';
import {
  BackfillLockedError,
  ChangeCaptureBlockedError,
  ConfigError,
  DatabaseUnreachableError,
  EmbeddedDatabaseBusyError,
  EmbeddedStorageError,
  GoalBackfillError,
  SchemaNotReadyError,
  UsageError,
} from '../errors';
import { renderLogLine } from '../logging';
import { renderFailureTrace } from '../report';
import {
  cliLogFormat,
  cliSchema,
  EXIT_CODES_EPILOGUE,
  GLOBAL_GROUP,
  GLOBAL_OPTIONS,
  type GlobalFlags,
} from './flags';
import {
  type CliCommand,
  type CliContext,
  type CliIo,
  type CliOutput,
  EXIT_CODES,
  openCliOutput,
} from './output';
import { rollbackCommand } from './rollback';
import { runCommand } from './run';
import { statusCommand } from './status';

/** The commands, to point a usage error at the right help. */
const COMMANDS: readonly string[] = ['run', 'rollback', 'status'];

/** yargs' messages, reworded to say what to fix. y18n takes plural forms as `{one, other}`. */
const MESSAGES: Record<string, unknown> = {
  'Not enough arguments following: %s': '--%s needs a value',
  'Invalid values:': 'invalid value:',
  'Argument: %s, Given: %s, Choices: %s': '--%s got %s; it must be one of %s',
  'Arguments %s and %s are mutually exclusive':
    '--%s and --%s cannot be used together: a dry run writes nothing, so no session can fail; ' +
    'drop one of them',
  'Unknown argument: %s': {
    one: 'unknown flag or command: %s',
    other: 'unknown flags or commands: %s',
  },
  'Did you mean %s?': 'did you mean %s?',
};

/** The help's width in columns, whatever the terminal's. */
const HELP_WIDTH = 100;

/** An option's help line whose type column (`[string]`, `[default: …]`) touches its text. */
const RUN_TOGETHER =
  /^(.*\S)(\[(?:boolean|string|number|array|count|required|choices:|default:|deprecated)[^\n]*\])$/;

/**
 * Moves a type column that touches its description to a line of its own, right-aligned as the
 * others are. yargs' layout (cliui) puts it on the description's last line when it fits, and
 * when it fits exactly it leaves no space between them (`…to this file[string]`).
 */
function separateTypeColumns(help: string): string {
  return help
    .split('\n')
    .map((line) => {
      const [, text, types] = RUN_TOGETHER.exec(line) ?? [];
      if (text === undefined || types === undefined) return line;
      return `${text}\n${' '.repeat(line.length - types.length)}${types}`;
    })
    .join('\n');
}

/**
 * `goal-backfill help [command]` as the `--help` it means: yargs reads the word `help` as the
 * default command's help too, so both helps would print, one after the other.
 */
function helpWordAsFlag(argv: readonly string[]): readonly string[] {
  return argv[0] === 'help' ? [...argv.slice(1), '--help'] : argv;
}

/**
 * Runs `goal-backfill` with `argv` (the arguments after the script name) and answers the exit
 * code. It never exits the process: bin.ts does, and tests call this directly.
 */
export async function main(typed: readonly string[], io: CliIo): Promise<number> {
  const argv = helpWordAsFlag(typed);
  const signal = io.signal ?? new AbortController().signal;
  const context: CliContext = { argv, io, signal, exitCode: EXIT_CODES.ok };
  // Only for the help it points at: each command checks its own flags, once yargs chose it.
  const end = argv.indexOf('--');
  const command = argv.slice(0, end === -1 ? undefined : end).find((arg) => COMMANDS.includes(arg));
  const help = `see 'goal-backfill${command ? ` ${command}` : ''} --help'`;
  const topLevelHelp = argv.length > 0 && argv.every((arg) => arg === '--help' || arg === '-h');
  // `run` is the default command only when the command line starts with a flag (or is empty):
  // a first word that names no command is then an unknown command, which yargs can only
  // recommend a command for (`rn`: did you mean run?) when no default command would take it.
  const firstWord = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
  const runIsDefault = !topLevelHelp && firstWord === undefined;
  // Named as typed only when it is a word: it could be a URL with a password, typed by mistake.
  const unknownCommand =
    firstWord === undefined || COMMANDS.includes(firstWord)
      ? undefined
      : /^[\w.-]{1,40}$/.test(firstWord)
        ? firstWord
        : '(not shown)';
  try {
    // package.json sits two directories up both in src/cli and in the built dist/cli.
    const pkg = readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8');
    const { version } = JSON.parse(pkg) as { version?: unknown };
    await yargs()
      .scriptName('goal-backfill')
      .usage('Usage: goal-backfill <command> [options]')
      .detectLocale(false)
      .locale('en')
      .updateStrings(MESSAGES as Record<string, string>)
      .exitProcess(false)
      // Numbers are read by the option spec's parser, never by yargs (see flags.ts);
      // arguments after `--` go to argv['--'], where the commands' check refuses them.
      .parserConfiguration({ 'parse-numbers': false, 'populate--': true })
      .strict()
      .recommendCommands()
      .showHelpOnFail(false)
      .wrap(HELP_WIDTH)
      .options(GLOBAL_OPTIONS)
      // For the top-level help, run is not the default, so its flags stay in its own help.
      .command(commandModule(context, runCommand(context, runIsDefault)))
      .command(commandModule(context, rollbackCommand(context)))
      .command(commandModule(context, statusCommand(context)))
      .version(
        'version',
        'Show the version number',
        typeof version === 'string' ? version : 'unknown',
      )
      .help('help', 'Show help')
      .alias('help', 'h')
      .group(['help', 'version'], GLOBAL_GROUP)
      .example('goal-backfill run --dry-run', 'Count what a backfill would do; write nothing')
      .example('goal-backfill status --json', 'Where the backfill stands, as JSON')
      .epilogue(EXIT_CODES_EPILOGUE)
      .fail((message, error) => {
        // yargs' own errors are YErrors, a check's are strings; anything else is not usage.
        if (error instanceof Error && error.name !== 'YError') throw error;
        let text = (message ?? String(error)).replace(/\s+/g, ' ').trim();
        if (unknownCommand !== undefined) {
          // No command ran, so its flags were never read: the command is what to fix.
          const recommended = text.startsWith('did you mean ') ? `: ${text}` : '';
          text = `unknown command ${unknownCommand}${recommended}`;
        }
        throw new UsageError(`${text}; ${help}`);
      })
      .parseAsync([...argv], {}, (_error, _parsed, output) => {
        // Help and version text arrive here instead of yargs printing them itself.
        if (output) io.stdout.write(`${separateTypeColumns(output)}\n`);
      });
  } catch (err) {
    const usage = err instanceof UsageError;
    const { code, message } = describeErrorSafely(err);
    io.stderr.write(
      cliLogFormat(argv, io.env) === 'json'
        ? renderLogLine('json', 'error', 'cli.error', {
            notice: message,
            code: usage ? null : code,
          })
        : `goal-backfill: error: ${message}\n`,
    );
    return usage ? EXIT_CODES.usage : EXIT_CODES.failed;
  }
  return context.exitCode;
}

/** The exit code for an error that stopped a command. */
export function exitCodeForError(err: unknown): number {
  const usage = [
    UsageError,
    ConfigError,
    DatabaseUnreachableError,
    EmbeddedStorageError,
    SchemaNotReadyError,
  ];
  if (
    err instanceof BackfillLockedError ||
    err instanceof EmbeddedDatabaseBusyError ||
    err instanceof ChangeCaptureBlockedError
  ) {
    return EXIT_CODES.locked;
  }
  return usage.some((type) => err instanceof type) ? EXIT_CODES.usage : EXIT_CODES.failed;
}

/** Prints one safe line for `err` (and its trace under --verbose) and answers the exit code. */
function reportFailure(err: unknown, context: CliContext, output: CliOutput, verbose: boolean) {
  const safe = describeErrorSafely(err);
  if (err instanceof BackfillLockedError && context.signal.aborted) {
    output.notices.error(`interrupted while waiting for the lock; nothing was written`, safe.code);
    return EXIT_CODES.interrupted;
  }
  const hint =
    err instanceof GoalBackfillError || verbose ? undefined : 'rerun with --verbose for a trace';
  output.notices.error(safe.message, err instanceof UsageError ? null : safe.code, hint);
  if (verbose) output.notices.detail(renderFailureTrace(err));
  return exitCodeForError(err);
}

/**
 * Turns a command's action (call the library with its checked flags, render, answer the exit
 * code) into a yargs handler that owns the error path: any error becomes one safe stderr line
 * and an exit code on the context. Nothing else in the CLI catches, prints and exits.
 */
function wrapHandler<T extends Partial<GlobalFlags>>(
  context: CliContext,
  action: CliCommand<T>['action'],
): (args: ArgumentsCamelCase<T>) => Promise<void> {
  return async (args) => {
    const verbose = args.verbose === true;
    const flags: GlobalFlags = { verbose, logFormat: cliLogFormat(context.argv, context.io.env) };
    const output = openCliOutput(context.io.stderr, context.signal, flags);
    try {
      context.exitCode = await action(args, {
        output,
        withDatabase: (work, options) => withDatabase(context.io.env, work, options),
      });
    } catch (err) {
      context.exitCode = reportFailure(err, context, output, verbose);
    }
  };
}

/** A command's yargs module: its declaration, with its action behind {@link wrapHandler}. */
function commandModule<T extends Partial<GlobalFlags>>(
  context: CliContext,
  { action, ...declaration }: CliCommand<T>,
): CommandModule<object, T> {
  return { ...declaration, handler: wrapHandler(context, action) };
}

/**
 * Opens the database at DATABASE_URL, hands it to `work` (resolving names in the schema of
 * `--schema` or GOAL_BACKFILL_SCHEMA, when either is set), and destroys it afterwards, however
 * `work` ends. A failure to connect becomes a DatabaseUnreachableError naming the host.
 */
export async function withDatabase<T>(
  env: Readonly<Record<string, string | undefined>>,
  work: (knex: Knex) => Promise<T>,
  options: CliDatabaseOptions = {},
): Promise<T> {
  const { knex, target, close } = createCliKnex(env, options);
  let connected = false;
  const pool = knex.client.pool as { on?: (event: string, listener: () => void) => void };
  pool?.on?.('createSuccess', () => {
    connected = true;
  });
  try {
    return await inSchema(knex, cliSchema(options.schema, env) ?? null, work);
  } catch (err) {
    throw asDatabaseUnreachable(err, target, { connected }) ?? err;
  } finally {
    await close();
  }
}

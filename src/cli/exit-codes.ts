import { BackfillLockedError } from '../errors/backfill-locked-error';
import { ConfigError } from '../errors/config-error';
import { DatabaseUnreachableError } from '../errors/database-unreachable-error';
import { EmbeddedDatabaseBusyError } from '../errors/embedded-database-busy-error';
import { SchemaNotReadyError } from '../errors/schema-not-ready-error';
import { UsageError } from '../errors/usage-error';

/** The exit codes of `goal-backfill`, documented in docs/cli.md. */
export const EXIT_CODES = {
  /** The command did all it was asked. */
  ok: 0,
  /** The run finished, but some sessions failed; also any unexpected error. */
  failed: 1,
  /** Bad usage or configuration: a flag, DATABASE_URL, an unreachable database, a missing schema. */
  usage: 2,
  /** Another backfill or rollback holds the lock, or another process has the embedded database open. */
  locked: 3,
  /** Stopped by SIGINT or SIGTERM (128 + 2, as shells report Ctrl-C). */
  interrupted: 130,
} as const;

/** The exit code for an error that stopped a command. */
export function exitCodeForError(err: unknown): number {
  if (err instanceof BackfillLockedError || err instanceof EmbeddedDatabaseBusyError) {
    return EXIT_CODES.locked;
  }
  if (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof DatabaseUnreachableError ||
    err instanceof SchemaNotReadyError
  ) {
    return EXIT_CODES.usage;
  }
  return EXIT_CODES.failed;
}

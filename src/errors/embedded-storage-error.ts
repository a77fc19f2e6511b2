import { GoalBackfillError } from './goal-backfill-error';

/** What each file-system code means for the embedded database's folder, and what to do. */
const STORAGE_FAILURES: Readonly<Record<string, { what: string; todo: string }>> = {
  ENOSPC: {
    what: 'the disk under {folder} is full',
    todo: 'free space on it, or set GOAL_BACKFILL_DATA_DIR to a folder on a disk with room',
  },
  EDQUOT: {
    what: 'the disk quota for {folder} is used up',
    todo: 'free space within the quota, or set GOAL_BACKFILL_DATA_DIR to a folder outside it',
  },
  EROFS: {
    what: '{folder} is on a read-only file system',
    todo: 'set GOAL_BACKFILL_DATA_DIR to a writable folder',
  },
  EACCES: {
    what: 'no permission to write to {folder}',
    todo: 'give this user write access to it, or set GOAL_BACKFILL_DATA_DIR to a folder it can write',
  },
  EPERM: {
    what: 'no permission to write to {folder}',
    todo: 'give this user write access to it, or set GOAL_BACKFILL_DATA_DIR to a folder it can write',
  },
};

const OTHER_FAILURE = {
  what: 'the embedded database could not write its files in {folder}',
  todo: 'check that folder and its disk, or set GOAL_BACKFILL_DATA_DIR to another folder',
};

/**
 * The embedded database's folder cannot be written: a full disk, a read-only file system, no
 * permission. The message names the folder and the code, and says what to do; running again
 * once that is fixed completes a folder the failure left half-created.
 */
export class EmbeddedStorageError extends GoalBackfillError {
  readonly code = 'EMBEDDED_STORAGE';

  constructor(
    readonly dataDirectory: string,
    /** The file-system code: `ENOSPC`, `EACCES`, … (`errno N` when PGlite's number has no name). */
    readonly fsCode: string,
    options?: { cause?: unknown },
  ) {
    const { what, todo } = STORAGE_FAILURES[fsCode] ?? OTHER_FAILURE;
    super(
      `${what.replace('{folder}', dataDirectory)} (${fsCode}): ${todo}, then run the command again`,
      options,
    );
  }
}

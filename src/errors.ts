/**
 * Every error this package throws on purpose, each named, carrying its data and the `cause`.
 * Messages name ids, counts and codes, never health text, and say what to do next.
 */

import { TABLES } from './names';

/** The `cause` an error carries (the standard `ErrorOptions`, spelled out for older libs). */
type CauseOption = { cause?: unknown };

/**
 * The base of every error this package throws on purpose. Messages name ids, counts and codes,
 * never health text, and say what to do next. The underlying error, if any, is the `cause`.
 */
export abstract class GoalBackfillError extends Error {
  /** A stable, machine-readable code for scripts and tests. */
  abstract readonly code: string;

  constructor(message: string, options?: CauseOption) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The backends that held a lock through every try, as the one-line errors name them. */
export function describeLockHolders(pids: readonly number[]): string {
  return pids.length > 0 ? `backend pid ${pids.join(', ')}` : 'other transactions';
}

/** Options or configuration that cannot be used. Every problem is reported at once. */
export class ConfigError extends GoalBackfillError {
  readonly code = 'CONFIG_INVALID';

  constructor(
    readonly problems: readonly string[],
    options?: CauseOption,
  ) {
    super(problems.join('; '), options);
  }
}

/** The command line cannot be used as typed. The message is one line saying what to fix. */
export class UsageError extends GoalBackfillError {
  readonly code = 'USAGE';

  constructor(message: string, options?: CauseOption) {
    super(message, options);
  }
}

/** The database could not be reached. The message names the target, never its password. */
export class DatabaseUnreachableError extends GoalBackfillError {
  readonly code = 'DATABASE_UNREACHABLE';

  constructor(
    readonly target: string,
    readonly reason: string,
    options?: CauseOption,
  ) {
    super(
      `cannot reach the database at ${target} (${reason}): check DATABASE_URL and that the server is up`,
      options,
    );
  }
}

/** Another process is using the embedded database's data folder. */
export class EmbeddedDatabaseBusyError extends GoalBackfillError {
  readonly code = 'EMBEDDED_DATABASE_BUSY';
  /** The process that holds the folder, when its lock file names one. */
  readonly holderPid: number | null;

  constructor(
    readonly dataDirectory: string,
    options?: CauseOption & { holderPid?: number },
  ) {
    const holder = options?.holderPid === undefined ? '' : ` (pid ${options.holderPid})`;
    super(
      `the embedded database in ${dataDirectory} is in use by another process${holder}: ` +
        'wait for it to finish (a lock left by a process that has ended is taken over), ' +
        'or set DATABASE_URL to use a PostgreSQL server',
      options,
    );
    this.holderPid = options?.holderPid ?? null;
  }
}

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
    options?: CauseOption,
  ) {
    const { what, todo } = STORAGE_FAILURES[fsCode] ?? OTHER_FAILURE;
    super(
      `${what.replace('{folder}', dataDirectory)} (${fsCode}): ${todo}, then run the command again`,
      options,
    );
  }
}

/** One column of the app's tables that the backfill cannot work with. */
export interface AppSchemaProblem {
  table: string;
  column: string;
  /** What is wrong and what to do, in words free of data: e.g. `is json; the backfill needs jsonb`. */
  problem: string;
}

/**
 * The app's existing `users` or `therapy_sessions` lack a column the backfill needs, or have it
 * with an incompatible type. Raised before anything is changed.
 */
export class AppSchemaIncompatibleError extends GoalBackfillError {
  readonly code = 'APP_SCHEMA_INCOMPATIBLE';

  constructor(readonly problems: readonly AppSchemaProblem[]) {
    super(
      `the app's tables do not fit the backfill, nothing was changed: ${problems
        .map(({ table, column, problem }) => `${table}.${column} ${problem}`)
        .join('; ')}`,
    );
  }
}

/** A table this package would create already exists, and this package did not create it. */
export class GoalSchemaConflictError extends GoalBackfillError {
  readonly code = 'GOAL_SCHEMA_CONFLICT';

  constructor(readonly tables: readonly string[]) {
    super(
      `${tables.join(', ')} already exist(s) but goal-backfill did not create them, nothing was ` +
        'changed: rename or drop them yourself if they are not in use, then rerun the migration',
    );
  }
}

/** Where PostgreSQL looked for a table's name: the search_path, and its schemas that exist. */
export interface NameLookup {
  /** The session's `search_path`, as set (`"$user", public`, `app`). */
  searchPath: string;
  /** The schemas of the search_path that exist, in order (`current_schemas(false)`). */
  schemas: readonly string[];
}

/** The schemas of `lookup`, as a message names them. */
function describeSchemas({ schemas }: NameLookup): string {
  if (schemas.length === 0) return 'any schema (none of the search_path exists)';
  const quoted = schemas.map((schema) => JSON.stringify(schema)).join(', ');
  return schemas.length === 1 ? `schema ${quoted}` : `schemas ${quoted}`;
}

/**
 * Tables the backfill needs are not where the connection looks for them. Either the app's
 * tables live in another schema than the search_path names (`appTablesMissing`: set the
 * schema), or this package's migrations have not run in this schema yet.
 */
export class SchemaNotReadyError extends GoalBackfillError {
  readonly code = 'SCHEMA_NOT_READY';

  constructor(
    readonly missingTables: readonly string[],
    readonly lookup: NameLookup,
    /** Whether the app's own users or therapy_sessions are among them. @default false */
    readonly appTablesMissing = false,
    options?: CauseOption,
  ) {
    const next = appTablesMissing
      ? "set GOAL_BACKFILL_SCHEMA (--schema in the CLI) or the knexfile searchPath to the app's " +
        'schema, or run `npx knex migrate:latest` first'
      : 'run `npx knex migrate:latest` first, or set GOAL_BACKFILL_SCHEMA (--schema in the CLI) ' +
        'to the schema it migrated';
    super(
      `${missingTables.join(', ')} not found in ${describeSchemas(lookup)} ` +
        `(search_path ${lookup.searchPath}): ${next}`,
      options,
    );
  }
}

/**
 * A schema change on a table the app writes could not take its lock within `lock_timeout`, in
 * any of its tries: other transactions held the table. What the migration had done before stays,
 * and running it again goes on from there.
 */
export class SchemaChangeBlockedError extends GoalBackfillError {
  readonly code = 'SCHEMA_CHANGE_BLOCKED';

  constructor(
    readonly table: string,
    /** The backends that held a lock on `table` at the last try. */
    readonly blockingPids: readonly number[],
    readonly attempts: number,
    options?: CauseOption,
  ) {
    const who = describeLockHolders(blockingPids);
    super(
      `could not change ${table}: ${who} kept it locked through ${attempts} tries of ` +
        'lock_timeout, so the change was not made and no write of the app waited on it; ' +
        'rerun the migration when they have finished, or raise GOAL_BACKFILL_LOCK_TIMEOUT_MS',
      options,
    );
  }
}

/**
 * A run could not start recording the sessions the app writes during it: transactions writing
 * therapy_sessions held the table through every try at its lock. Nothing was read or written.
 */
export class ChangeCaptureBlockedError extends GoalBackfillError {
  readonly code = 'CAPTURE_BLOCKED';

  constructor(
    /** The backends that held a write lock on therapy_sessions at the last try. */
    readonly blockingPids: readonly number[],
    readonly attempts: number,
    options?: CauseOption,
  ) {
    const who = describeLockHolders(blockingPids);
    super(
      `could not start recording session writes: ${who} kept ${TABLES.sessions} locked through ` +
        `${attempts} tries of lock_timeout; nothing was written. Rerun when they have finished, ` +
        'or raise --lock-timeout-ms',
      options,
    );
  }
}

/** What is known about the holder of the backfill lock. */
export interface LockHolder {
  pid: number | null;
  applicationName: string | null;
  runId: string | null;
  invokedBy: string | null;
  runner: string | null;
  startedAt: string | null;
}

function describeHolder(holder: LockHolder): string {
  const parts: string[] = [];
  if (holder.invokedBy) parts.push(`a ${holder.invokedBy} run`);
  if (holder.runId) parts.push(`run ${holder.runId}`);
  if (holder.runner) parts.push(`on ${holder.runner}`);
  if (holder.startedAt) parts.push(`started ${holder.startedAt}`);
  if (holder.pid !== null) parts.push(`backend pid ${holder.pid}`);
  if (holder.applicationName) parts.push(`application ${holder.applicationName}`);
  return parts.length > 0 ? parts.join(', ') : 'an unknown session';
}

/** Another backfill or rollback holds the advisory lock, and the wait for it ran out. */
export class BackfillLockedError extends GoalBackfillError {
  readonly code = 'LOCKED';

  constructor(
    readonly holder: LockHolder,
    readonly waitedMs: number,
    options?: CauseOption,
  ) {
    super(
      `another goal backfill holds the lock (${describeHolder(holder)}); waited ${waitedMs} ms. ` +
        'Let it finish, or check it with `goal-backfill status`',
      options,
    );
  }
}

/**
 * An error stopped a run before it read every session. Its checkpoint is kept: running the
 * backfill again resumes after the last committed page.
 */
export class BackfillRunFailedError extends GoalBackfillError {
  readonly code = 'RUN_FAILED';

  constructor(
    readonly runId: string | null,
    readonly sessionsProcessed: number,
    readonly reason: { code: string | null; message: string },
    options?: CauseOption,
  ) {
    super(
      `backfill run ${runId ?? '(dry run)'} stopped after ${sessionsProcessed} session(s): ` +
        `${reason.message}${reason.code ? ` [${reason.code}]` : ''}. ` +
        (runId ? 'Its checkpoint is kept: run the backfill again to resume' : 'Run it again'),
      options,
    );
  }
}

/**
 * The backfill finished, but some sessions failed. The goals already written stay; running
 * the backfill again retries the failed sessions.
 */
export class BackfillIncompleteError extends GoalBackfillError {
  readonly code = 'INCOMPLETE';

  constructor(
    readonly failedSessions: number,
    readonly runId: string | null,
    options?: CauseOption,
  ) {
    super(
      `${failedSessions} session(s) failed to backfill in run ${runId ?? '(dry run)'}; ` +
        `their ids and error codes are in table ${TABLES.failures} (run_id = '${runId ?? ''}'). ` +
        'Fix the cause, then run `npx knex migrate:latest` again: it completes the rest',
      options,
    );
  }
}

/** What a pass read against what the table held in its window, when they disagree. */
export interface PassShortfall {
  /**
   * 0 for the pass over what existed at the start; 1, 2, … for the catch-up passes; `all` for
   * the last check, over every pass at once.
   */
  pass: number | 'all';
  /** Sessions in the pass's window that have a key: all of them should have been read. */
  expected: number;
  /** Sessions the pass read. */
  read: number;
  /** Sessions of the window that lie after the pass's last key, outside every page it read. */
  beyondLastPage: number;
}

/**
 * A run read every page, but checking its reads against the table showed sessions it did not
 * read, so it does not report completed. Its goals stay; its checkpoint is cleared, so the next
 * run starts over and (being idempotent) completes the rest.
 */
export class BackfillUnverifiedError extends GoalBackfillError {
  readonly code = 'UNVERIFIED';

  constructor(
    readonly runId: string | null,
    readonly shortfall: PassShortfall,
    options?: CauseOption,
  ) {
    super(
      `backfill run ${runId ?? '(dry run)'} is not complete: ` +
        `${shortfall.pass === 'all' ? 'its passes' : `pass ${shortfall.pass}`} read ` +
        `${shortfall.read} of ${shortfall.expected} session(s), ${shortfall.beyondLastPage} ` +
        'after its last page. The goals written stay; run the backfill again: it starts over ' +
        'and creates only what is missing',
      options,
    );
  }
}

/**
 * An error stopped a rollback part-way. Each batch deletes in a statement of its own, so the
 * goals of the batches before it stay deleted; running the rollback again deletes the rest.
 */
export class RollbackFailedError extends GoalBackfillError {
  readonly code = 'ROLLBACK_FAILED';

  constructor(
    /** Goals deleted by the batches that committed. */
    readonly deleted: number,
    /**
     * Goals of the batch in flight that may have been deleted too: when the connection was lost
     * (the server cannot say whether that batch committed) its size, otherwise 0.
     */
    readonly maybeDeleted: number,
    readonly reason: { code: string | null; message: string },
    options?: CauseOption,
  ) {
    const more =
      maybeDeleted > 0
        ? ` (and up to ${maybeDeleted} more, if the batch in flight committed before the connection was lost)`
        : '';
    super(
      `rollback stopped after deleting ${deleted} backfilled goal(s)${more}: ` +
        `${reason.message}${reason.code ? ` [${reason.code}]` : ''}. ` +
        'Deleted goals stay deleted: run the rollback again to delete the rest',
      options,
    );
  }
}

/** Dropping treatment_goals would destroy goals that the backfill did not create. */
export class TeardownRefusedError extends GoalBackfillError {
  readonly code = 'TEARDOWN_REFUSED';

  constructor(
    readonly clinicianGoals: number,
    readonly changedBackfilledGoals: number,
    readonly overrideVariable: string,
  ) {
    super(
      `refusing to drop ${TABLES.goals}: it holds ${clinicianGoals} clinician-entered goal(s) and ` +
        `${changedBackfilledGoals} backfilled goal(s) that clinicians changed. Export or keep them; ` +
        `to destroy them deliberately, rerun with ${overrideVariable}=1`,
    );
  }
}

/**
 * What a migration or seed of this package throws to Knex in place of any error: a message
 * rebuilt from codes and ids only, and a one-line `stack`. The Knex CLI prints `err.stack`, and
 * a database error's own message and stack can quote row values (a trigger's RAISE text, a
 * `Key (…)=(…)` detail), so neither is passed on. `cause` keeps only the safe description.
 */
export class MigrationFailedError extends GoalBackfillError {
  readonly code = 'MIGRATION_FAILED';

  constructor(
    /** What failed, e.g. `migration 20261101000002_backfill_treatment_goals (down)`. */
    readonly step: string,
    /** The code of the error that stopped it: SQLSTATE, system code or this package's code. */
    readonly errorCode: string | null,
    reason: string,
  ) {
    super(`goal-backfill ${step} failed: ${reason}`, {
      cause: { code: errorCode, message: reason },
    });
    this.stack = `${this.name}: ${this.message}`;
  }
}

/**
 * A session whose goals could not be written, as the failure table, the error log and
 * `onSessionFailed` see it. The message is free of row values. It sits here, below every layer,
 * because the options that take a failure callback sit below the backfill that records one.
 */
export interface SessionFailure {
  sessionId: string;
  patientId: string;
  /** The SQLSTATE, or another error code when the failure did not come from PostgreSQL. */
  sqlState: string | null;
  message: string;
}

import { GoalBackfillError } from './goal-backfill-error';

/** Another process is using the embedded database's data folder. */
export class EmbeddedDatabaseBusyError extends GoalBackfillError {
  readonly code = 'EMBEDDED_DATABASE_BUSY';
  /** The process that holds the folder, when its lock file names one. */
  readonly holderPid: number | null;

  constructor(
    readonly dataDirectory: string,
    options?: { cause?: unknown; holderPid?: number },
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

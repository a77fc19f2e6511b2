import { GoalBackfillError } from './goal-backfill-error';

/** Another process is using the embedded database's data folder. */
export class EmbeddedDatabaseBusyError extends GoalBackfillError {
  readonly code = 'EMBEDDED_DATABASE_BUSY';

  constructor(
    readonly dataDirectory: string,
    options?: { cause?: unknown },
  ) {
    super(
      `the embedded database in ${dataDirectory} is in use by another process: ` +
        'wait for it to finish (a lock left by a killed process expires after 10 seconds), ' +
        'or set DATABASE_URL to use a PostgreSQL server',
      options,
    );
  }
}

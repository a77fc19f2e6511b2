import type { SessionFailure } from '../bookkeeping/failure-store';

/** One line of the `--error-log` file: ids, the SQLSTATE and a message free of row values. */
export interface ErrorLogLine {
  sessionId: string;
  patientId: string;
  sqlState: string | null;
  message: string;
}

/** The line written for a failed session. Fields are picked one by one, so nothing else leaks. */
export function errorLogLine(failure: SessionFailure): string {
  const line: ErrorLogLine = {
    sessionId: failure.sessionId,
    patientId: failure.patientId,
    sqlState: failure.sqlState,
    message: failure.message,
  };
  return `${JSON.stringify(line)}\n`;
}

import { closeSync, openSync, writeSync } from 'node:fs';
import type { SessionFailure } from '../../bookkeeping/failure-store';
import { UsageError } from '../../errors/usage-error';

/** One line of the error log: ids, the SQLSTATE and a message free of row values. */
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

/**
 * The `--error-log` file: created (or emptied) when opened, one JSON line per failed session,
 * each written at once so a killed run keeps the lines it had.
 */
export class ErrorLogFile {
  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  /** Opens `path` for writing. Throws a UsageError when it cannot be created. */
  static open(path: string): ErrorLogFile {
    try {
      return new ErrorLogFile(path, openSync(path, 'w', 0o600));
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

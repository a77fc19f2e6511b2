import { createLogger } from '../../logging/create-logger';
import type { Logger } from '../../logging/logger';
import type { CliIo } from '../cli-io';
import type { GlobalFlags } from '../cli-options';
import { createNotices, type Notices } from './notices';
import { StderrLines } from './stderr-lines';

/** Where one command writes: its logger and notices go to stderr, its report to stdout. */
export interface CliOutput {
  logger: Logger;
  notices: Notices;
  /** stderr as log lines see it, for a progress bar to share. */
  stderr: StderrLines;
}

/** Builds the output of one command, at debug level under --verbose. */
export function openCliOutput(io: CliIo, flags: GlobalFlags): CliOutput {
  const stderr = new StderrLines(io.stderr);
  const logger = createLogger({
    level: flags.verbose ? 'debug' : 'info',
    format: flags.logFormat,
    stream: stderr,
  });
  return { logger, notices: createNotices(flags.logFormat, stderr, logger), stderr };
}

import { errorLogFields } from '../db/safe-error';
import type { Logger } from '../logging/logger';

/**
 * Runs clean-up that must not hide the error that is already on its way out (a dead
 * connection cannot release its lock, but PostgreSQL releases it anyway). Failures are logged.
 */
export async function bestEffort(
  logger: Logger,
  event: string,
  work: () => Promise<unknown>,
): Promise<void> {
  try {
    await work();
  } catch (err) {
    logger.warn(`${event}_failed`, errorLogFields(err));
  }
}

import type { Logger } from '../logging/logger';
import { databaseErrorKind } from './database-error-kind';
import { sqlStateOf } from './sqlstate';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  logger: Logger;
  /** Names the work in log events. */
  event: string;
  /** Milliseconds before the first retry; each later one doubles it, with jitter. @default 100 */
  baseDelayMs?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `work`, and runs it again after a backoff when it fails with a transient error
 * (serialization failure, deadlock, lock timeout). Any other error, or the last attempt's, is
 * thrown as it is. `work` must be safe to run twice: here it is always a whole transaction.
 */
export async function retryTransient<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const baseDelayMs = options.baseDelayMs ?? 100;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= options.maxAttempts || databaseErrorKind(err) !== 'transient') throw err;
      const delayMs = Math.round(baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
      options.logger.warn(`${options.event}.retry`, {
        attempt,
        maxAttempts: options.maxAttempts,
        sqlState: sqlStateOf(err) ?? null,
        delayMs,
      });
      await sleep(delayMs);
    }
  }
}

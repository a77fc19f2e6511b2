import type { Logger } from '../logging/logger';
import { databaseErrorKind } from './database-error-kind';
import { errorLogFields } from './safe-error';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  logger: Logger;
  /** Names the work in log events. */
  event: string;
  /** Milliseconds before the first retry; each later one doubles it, with jitter. @default 100 */
  baseDelayMs?: number;
  /** Called before retrying after a lost connection; without it, such errors are thrown. */
  reconnect?: () => Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `work`, and runs it again after a backoff when it fails with a transient error
 * (serialization failure, deadlock, lock timeout) or, when `reconnect` is given, a lost
 * connection. Any other error, or the last attempt's, is thrown as it is. `work` must be safe
 * to run twice: here it is always a whole transaction.
 */
export async function retryTransient<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const baseDelayMs = options.baseDelayMs ?? 100;
  let connectionLost = false;
  for (let attempt = 1; ; attempt += 1) {
    try {
      if (connectionLost) await options.reconnect?.();
      connectionLost = false;
      return await work();
    } catch (err) {
      const kind = databaseErrorKind(err);
      const retryable =
        kind === 'transient' || (kind === 'connection' && options.reconnect !== undefined);
      if (attempt >= options.maxAttempts || !retryable) throw err;
      const delayMs = Math.round(baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
      options.logger.warn(`${options.event}.retry`, {
        attempt,
        maxAttempts: options.maxAttempts,
        kind,
        ...errorLogFields(err),
        delayMs,
      });
      await sleep(delayMs);
      connectionLost = kind === 'connection';
    }
  }
}

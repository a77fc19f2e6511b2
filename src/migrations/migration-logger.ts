import { readBackfillEnv } from '../config/backfill-env';
import type { Logger } from '../logging/logger';
import { createLogger } from '../logging/create-logger';

/** The logger a migration entry point writes to, set by GOAL_BACKFILL_LOG_LEVEL and _FORMAT. */
export function migrationLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  const { logLevel, logFormat } = readBackfillEnv(env);
  return createLogger({ level: logLevel, format: logFormat });
}

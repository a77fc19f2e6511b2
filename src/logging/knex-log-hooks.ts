import type { Logger } from './logger';

/** Knex's `log` setting: where its own warnings, errors, deprecations and debug output go. */
export interface KnexLogHooks {
  warn(message: unknown): void;
  error(message: unknown): void;
  deprecate(message: unknown): void;
  debug(message: unknown): void;
}

/**
 * Knex's own messages that carry no database text, each with what of it may be logged. Any
 * other message of Knex's may quote a driver's or the server's error (`Connection Error: …`,
 * `migration failed with error: …` with an app migration's error) and is logged without it.
 */
const KNOWN_MESSAGES: readonly { pattern: RegExp; keep: (match: RegExpExecArray) => string }[] = [
  { pattern: /^migration file "([^"\n]+)" failed$/, keep: (m) => m[0] },
  // The error follows, as the migration threw it: this package's are logged on their own.
  { pattern: /^migration failed with error: /, keep: () => 'migration failed with error' },
  {
    pattern: /^Can't take lock to run migrations: Migration table is already locked$/,
    keep: (m) => m[0],
  },
  {
    pattern: /^If you are sure migrations are not running you can release the lock/,
    keep: (m) => m[0],
  },
  { pattern: /^migration [^\n]+ did not return a promise$/, keep: (m) => m[0] },
  // Knex names its own methods here, never a value.
  { pattern: /^[^\n]{1,80} is deprecated, please use [^\n]{1,80}$/, keep: (m) => m[0] },
];

/** What of one of Knex's messages may be logged: the known ones as they are, else nothing. */
function safeNotice(message: unknown): string | null {
  if (typeof message !== 'string') return null;
  for (const { pattern, keep } of KNOWN_MESSAGES) {
    const match = pattern.exec(message);
    if (match) return keep(match);
  }
  return null;
}

/**
 * Knex's `log` hooks that send its lines through `logger` as events, in the logger's format
 * (with this package's default logger and GOAL_BACKFILL_LOG_FORMAT=json, one JSON object a
 * line, like every other line): `knex.deprecation` at warn, and `knex.warning`, `knex.error`
 * and `knex.debug` at debug, since what they report reaches the caller as an error too (the
 * migration's failure, the pool's), which is logged once, without the server's text. An event
 * carries `notice`, Knex's text, for its messages known to hold no database text; any other
 * warning or error is dropped, since nothing of it may be said (a pool's `Acquire connection
 * error: …` while it shuts down, a driver's `Connection Error: …`). Debug output (queries and
 * their bindings) is logged as its `method` only. Give them to a knexfile:
 * `log: knexLogHooks(logger)`.
 */
export function knexLogHooks(logger: Logger): KnexLogHooks {
  const known = (event: string) => (message: unknown) => {
    const notice = safeNotice(message);
    if (notice !== null) logger.debug(event, { notice });
  };
  return {
    deprecate: (message) => logger.warn('knex.deprecation', { notice: safeNotice(message) }),
    warn: known('knex.warning'),
    error: known('knex.error'),
    debug: (message) => {
      const method = (message as { method?: unknown } | null)?.method;
      logger.debug('knex.debug', { method: typeof method === 'string' ? method : null });
    },
  };
}

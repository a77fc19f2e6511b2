/** The largest value PostgreSQL takes for `statement_timeout` and `lock_timeout`, in ms. */
const MAX_PG_TIMEOUT_MS = 2_147_483_647;

/**
 * One numeric option of the backfill or the rollback, named once. The CLI's flags, the
 * GOAL_BACKFILL_* environment reader and the library's option checks all read it.
 */
export interface OptionSpec {
  /** The `--flag` of the CLI. Durations are whole milliseconds and end in `-ms`. */
  flag: string;
  /** The placeholder in the help: `<n>` for counts, `<ms>` for durations. */
  placeholder: '<n>' | '<ms>';
  /** Applied by the library when the option is not given. */
  default: number;
  min: number;
  max: number;
  /** 0 is accepted too, meaning none, although it is below `min`. @default false */
  zeroMeansNone?: boolean;
  /** The environment variable the migration and the seeds read it from, if any. */
  env?: string;
  /** The help line of the flag, as the backfill (`run`, the migration) reads the option. */
  describe: string;
  /** The help line under a command that reads the option differently, by command name. */
  describeFor?: Readonly<Record<string, string>>;
}

/** Every numeric option, by the name the library takes it under. */
export const OPTION_SPECS = {
  batchSize: {
    flag: 'batch-size',
    placeholder: '<n>',
    // Measured on 100k sessions (docs/performance.md): 1000 spends a fifth of the run on
    // per-page overhead; past 10000 the page's sort spills to disk.
    default: 5000,
    min: 1,
    // Bigger pages hold locks and memory for too long.
    max: 100_000,
    env: 'GOAL_BACKFILL_BATCH_SIZE',
    describe: 'Sessions per page; each page is one statement and one transaction',
    describeFor: { rollback: 'Goals deleted per statement' },
  },
  progressEvery: {
    flag: 'progress-every',
    placeholder: '<n>',
    default: 100_000,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    env: 'GOAL_BACKFILL_PROGRESS_EVERY',
    describe: 'Sessions between progress log lines when stderr is not a terminal (0: none)',
  },
  lockWaitMs: {
    flag: 'lock-wait-ms',
    placeholder: '<ms>',
    default: 0,
    min: 0,
    max: 86_400_000,
    env: 'GOAL_BACKFILL_LOCK_WAIT_MS',
    describe: 'How long to wait for another backfill or rollback to finish',
  },
  statementTimeoutMs: {
    flag: 'statement-timeout-ms',
    placeholder: '<ms>',
    default: 120_000,
    // Below this the run's own lock, run record and checkpoint statements could be cancelled
    // before the run exists, so it could not stop in the documented way.
    min: 1000,
    max: MAX_PG_TIMEOUT_MS,
    zeroMeansNone: true,
    env: 'GOAL_BACKFILL_STATEMENT_TIMEOUT_MS',
    describe: 'statement_timeout of the connection (0: none)',
  },
  lockTimeoutMs: {
    flag: 'lock-timeout-ms',
    placeholder: '<ms>',
    default: 5000,
    min: 0,
    max: MAX_PG_TIMEOUT_MS,
    env: 'GOAL_BACKFILL_LOCK_TIMEOUT_MS',
    describe: 'lock_timeout of the connection, so app writes are never held up long',
  },
  pauseMs: {
    flag: 'pause-ms',
    placeholder: '<ms>',
    default: 0,
    min: 0,
    max: 3_600_000,
    env: 'GOAL_BACKFILL_PAUSE_MS',
    describe: 'Wait after each page, to leave room for live traffic',
  },
  maxSessionsPerSecond: {
    flag: 'max-sessions-per-second',
    placeholder: '<n>',
    default: 0,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    env: 'GOAL_BACKFILL_MAX_SESSIONS_PER_SECOND',
    describe: 'Sessions per second not to exceed; pages wait as needed (0: no limit)',
  },
  backoffMs: {
    flag: 'backoff-ms',
    placeholder: '<ms>',
    default: 1000,
    min: 0,
    max: 600_000,
    env: 'GOAL_BACKFILL_BACKOFF_MS',
    describe:
      'Extra wait after a page that app queries waited on, or while replicas lag (0: never back off)',
  },
  maxReplicationLagMs: {
    flag: 'max-replication-lag-ms',
    placeholder: '<ms>',
    default: 10_000,
    min: 0,
    max: 86_400_000,
    env: 'GOAL_BACKFILL_MAX_REPLICATION_LAG_MS',
    describe: 'Replay lag of the replicas above which each page backs off (0: no check)',
  },
  workers: {
    flag: 'workers',
    placeholder: '<n>',
    default: 1,
    min: 1,
    // Each worker holds one of the server's connections for the whole run; more crowd out the app.
    max: 16,
    env: 'GOAL_BACKFILL_WORKERS',
    describe:
      'Connections that backfill at once, each taking a share of the patients (needs a PostgreSQL server)',
  },
  maxAttempts: {
    flag: 'max-attempts',
    placeholder: '<n>',
    default: 5,
    min: 1,
    max: 100,
    describe: 'Attempts for a page that meets a deadlock, serialization failure or lock timeout',
  },
  limit: {
    flag: 'limit',
    placeholder: '<n>',
    default: 10,
    min: 1,
    max: 1000,
    describe: 'How many recent runs to list',
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTION_SPECS;

/** What `value` should have been, or null when it is acceptable. */
export function optionProblem(name: OptionName, value: unknown): string | null {
  const spec: OptionSpec = OPTION_SPECS[name];
  if (value === undefined) return null;
  if (spec.zeroMeansNone && value === 0) return null;
  const ok =
    typeof value === 'number' && Number.isInteger(value) && value >= spec.min && value <= spec.max;
  if (ok) return null;
  const none = spec.zeroMeansNone ? '0 (none) or ' : '';
  const shown =
    typeof value === 'number' && Number.isNaN(value) ? 'something not a number' : String(value);
  const unit = spec.placeholder === '<ms>' ? ' of milliseconds' : '';
  return `must be ${none}a whole number${unit} from ${spec.min} to ${spec.max} (got ${shown})`;
}

/**
 * Reads a numeric option from the text a flag or a variable gave: decimal digits only, so `""`,
 * `0x10`, `1e3`, `+5`, `-1`, `5.0` and ` 5` are refused rather than read as some other number
 * (`Number` would read `""` as 0 and `0x10` as 16), then the option's range. Answers the value,
 * or `must be …` saying what it takes, with the text as given.
 */
export function parseOption(
  name: OptionName,
  text: string,
): { value: number; problem: null } | { value: undefined; problem: string } {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  const problem = optionProblem(name, value);
  if (problem === null) return { value, problem: null };
  return {
    value: undefined,
    problem: problem.replace(/\(got [^)]*\)$/, `(got ${JSON.stringify(text)})`),
  };
}

/**
 * Adds `<label> must be …` to `problems` unless `value` is undefined or within the option's
 * range. `label` is how the caller names it: the option, a `--flag` or a variable.
 */
export function checkOption(
  problems: string[],
  name: OptionName,
  value: unknown,
  label: string = name,
): void {
  const problem = optionProblem(name, value);
  if (problem !== null) problems.push(`${label} ${problem}`);
}

/** The option's value, or its default when it was not given. */
export function optionOrDefault(name: OptionName, value: number | undefined): number {
  return value ?? OPTION_SPECS[name].default;
}

/** The longest name PostgreSQL keeps whole (NAMEDATALEN - 1 bytes); a longer one is cut. */
const MAX_IDENTIFIER_BYTES = 63;

/**
 * The one text option: the PostgreSQL schema that holds the app's tables (users,
 * therapy_sessions, treatment_goals) and this package's own. Named once, like the numeric
 * options: the CLI's flag, the variable the migrations, the seeds and the CLI read, and the
 * library's `schema` option all take it from here.
 */
export const SCHEMA_OPTION = {
  flag: 'schema',
  placeholder: '<name>',
  env: 'GOAL_BACKFILL_SCHEMA',
  describe:
    "PostgreSQL schema of the app's tables and this package's (default: the connection's search_path)",
} as const;

/**
 * What a schema name should have been, or null when it can be used: one schema, as spelled
 * in the catalog (no quotes, case kept), at most 63 bytes. A comma is refused, since it reads as
 * a search_path (`app,public`), which this setting is not.
 */
export function schemaNameProblem(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.trim() === '') {
    return `must name a schema (got ${JSON.stringify(value) ?? String(value)})`;
  }
  if (value !== value.trim()) {
    return `must be a schema name without spaces around it (got ${JSON.stringify(value)})`;
  }
  if (value.includes(',')) {
    return `must name one schema, not a search_path (got ${JSON.stringify(value)})`;
  }
  if (value.includes('\0') || Buffer.byteLength(value, 'utf8') > MAX_IDENTIFIER_BYTES) {
    return `must be a schema name of at most ${MAX_IDENTIFIER_BYTES} bytes (got ${JSON.stringify(value)})`;
  }
  return null;
}

import { randomUUID } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { PGlite, QueryOptions, Results } from '@electric-sql/pglite';
import type { Knex } from 'knex';
import { ConfigError, EmbeddedDatabaseBusyError, EmbeddedStorageError } from '../errors';

const nextTurnOfEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The embedded database's packages and the versions this package is tested with (its optional
 * peers in package.json; test/package/installed-cli.e2e.test.ts checks they agree).
 */
export const EMBEDDED_PACKAGES = {
  '@electric-sql/pglite': '0.5.16',
  'knex-pglite': '0.14.0',
} as const;

/**
 * Refuses, with the one line that says what to set, an embedded database whose packages are not
 * installed: an app that installed goal-backfill has neither (they are dev-only optional peers).
 */
function assertEmbeddedPackagesInstalled(): void {
  const missing = Object.entries(EMBEDDED_PACKAGES).filter(([name]) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  const install = missing.map(([name, version]) => `${name}@${version}`).join(' ');
  throw new ConfigError([
    'DATABASE_URL is not set and the embedded database is not installed: set ' +
      'DATABASE_URL=postgres://user:password@host:5432/database, or, for local development ' +
      `only, npm install --save-dev ${install}`,
  ]);
}

/**
 * The embedded database's packages are optional peers of the library: they are loaded here,
 * when an embedded database is asked for, never when this module is imported. Refused with a
 * ConfigError when they are not installed.
 */
function embeddedPackages() {
  assertEmbeddedPackagesInstalled();
  const { PGlite: PGliteClass } =
    require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const dialect = require('knex-pglite') as { default?: unknown };
  const client = dialect.default ?? dialect;

  /**
   * A PGlite database that gives up its data folder's lock file when it closes, and lets the
   * event loop turn before each statement.
   */
  class LockedPGlite extends PGliteClass {
    constructor(
      dataDirectory: string,
      private readonly releaseLock: () => void,
    ) {
      super(dataDirectory);
      // A failed open names neither the folder nor the cause (see openFailureCode); every
      // caller, Knex included, awaits this promise.
      (this as { waitReady: Promise<void> }).waitReady = this.waitReady.catch((err: unknown) => {
        const code = openFailureCode(err, dataDirectory);
        throw code === null ? err : new EmbeddedStorageError(dataDirectory, code, { cause: err });
      });
    }

    // PGlite answers within the same turn, so a long run of statements is one chain of
    // microtasks: without this turn, a Ctrl-C (or any timer) waits until the whole run is over.
    override async query<T>(
      query: string,
      params?: unknown[],
      options?: QueryOptions,
    ): Promise<Results<T>> {
      await nextTurnOfEventLoop();
      return super.query<T>(query, params, options);
    }

    override async close(): Promise<void> {
      try {
        await super.close();
      } finally {
        this.releaseLock();
      }
    }
  }
  return {
    client: client as Knex.Config['client'],
    open: (dataDirectory: string, release: () => void): PGlite =>
      new LockedPGlite(dataDirectory, release),
  };
}

/**
 * How long Knex waits for the embedded database to open. Opening is no network wait: PGlite
 * compiles its WebAssembly, creates a new folder's database or replays the WAL a process left
 * without a shutdown, which took over 15 s on a busy two-core machine.
 */
export const EMBEDDED_OPEN_TIMEOUT_MS = 120_000;

/** The lock file beside a data folder: it names the process that has the folder open. */
export function lockFileOf(dataDirectory: string): string {
  return `${dataDirectory}.pid.lock`;
}

/** The variable that moves the embedded database's folder. */
const DATA_DIR_VARIABLE = 'GOAL_BACKFILL_DATA_DIR';

/**
 * The embedded database's folder: GOAL_BACKFILL_DATA_DIR resolved against the working
 * directory, or `fallback` when it is unset. An empty value is refused rather than read as the
 * working directory, where PGlite would create a database among whatever files are there.
 */
export function embeddedDataDirectory(
  env: Readonly<Record<string, string | undefined>>,
  fallback: string,
): string {
  const raw = env[DATA_DIR_VARIABLE];
  if (raw === undefined) return path.resolve(fallback);
  if (raw.trim() === '') {
    throw new ConfigError([
      `${DATA_DIR_VARIABLE} is empty: set it to the folder the embedded database keeps its ` +
        `files in (e.g. ${DATA_DIR_VARIABLE}=.data/pglite), or unset it for the default .data/pglite`,
    ]);
  }
  return path.resolve(raw);
}

/**
 * The PostgreSQL major version whose files the embedded database reads: PGlite 0.5 is
 * PostgreSQL 18 (test/config/embedded-data-folder.e2e.test.ts checks it against a new folder).
 */
export const EMBEDDED_POSTGRES_MAJOR = '18';

/**
 * Top-level names of a PostgreSQL data directory besides `pg_*`. A folder holding only these
 * is a database, or one a failed first open left half-created, which PGlite completes.
 */
const DATA_DIRECTORY_ENTRIES = new Set([
  'PG_VERSION',
  'base',
  'global',
  'postgresql.conf',
  'postgresql.auto.conf',
  'postmaster.pid',
  'postmaster.opts',
  'current_logfiles',
  'log',
  'lost+found',
]);

/** Emscripten's errno numbers (PGlite's file system) for the codes worth naming. */
const EMSCRIPTEN_ERRNO: Readonly<Record<number, string>> = {
  2: 'EACCES',
  19: 'EDQUOT',
  29: 'EIO',
  51: 'ENOSPC',
  54: 'ENOTDIR',
  63: 'EPERM',
  69: 'EROFS',
};

/** The code of emscripten's `ErrnoError { errno }`, which PGlite throws; null for anything else. */
function emscriptenErrnoCode(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null;
  const { name, errno } = err as { name?: unknown; errno?: unknown };
  if (name !== 'ErrnoError' || typeof errno !== 'number') return null;
  return EMSCRIPTEN_ERRNO[errno] ?? `errno ${errno}`;
}

/** PGlite's fixed message when PostgreSQL stops while starting; the reason is only in its log. */
const START_FAILED = 'PGlite failed to initialize properly';

/**
 * Room PostgreSQL may need to start: it creates a whole WAL segment (16 MiB) when the last one
 * is three quarters used, and stops with "No space left on device" when it cannot.
 */
export const ROOM_TO_START_BYTES = 16 * 1024 * 1024;

function freeBytesUnder(folder: string): number | null {
  try {
    const stats = statfsSync(folder);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

/**
 * The file-system code behind a failure to open the embedded database in `dataDirectory`, or
 * null when it is something else. PGlite throws emscripten's `ErrnoError { errno }` (no Error,
 * no message) when it cannot write the folder, e.g. `errno: 51` on a full disk while creating a
 * database; when PostgreSQL itself cannot write while starting, PGlite throws only
 * {@link START_FAILED}, which is read as a full disk when less than
 * {@link ROOM_TO_START_BYTES} is free there.
 */
export function openFailureCode(
  err: unknown,
  dataDirectory: string,
  freeBytes: (folder: string) => number | null = freeBytesUnder,
): string | null {
  const errno = emscriptenErrnoCode(err);
  if (errno !== null) return errno;
  if (!(err instanceof Error) || err.message !== START_FAILED) return null;
  const free = freeBytes(dataDirectory);
  return free !== null && free < ROOM_TO_START_BYTES ? 'ENOSPC' : null;
}

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Whether `folder` was a PostgreSQL server's data directory: a server writes postmaster.opts
 * each time it starts, and records its pid in postmaster.pid. PGlite runs PostgreSQL in
 * single-user mode, which records a negative pid and writes no postmaster.opts.
 */
function isServerDataDirectory(folder: string): boolean {
  if (readOrNull(path.join(folder, 'postmaster.opts')) !== null) return true;
  const pid = readOrNull(path.join(folder, 'postmaster.pid'))?.split('\n')[0]?.trim() ?? '';
  return /^[1-9][0-9]*$/.test(pid);
}

/** What makes `folder`, which exists, no folder for the embedded database; null when it is one. */
function folderProblem(folder: string): string | null {
  if (!statSync(folder).isDirectory()) return 'is a file, not a folder';
  const entries = readdirSync(folder);
  if (!entries.includes('PG_VERSION')) {
    const foreign = entries.filter(
      (name) => !name.startsWith('pg_') && !DATA_DIRECTORY_ENTRIES.has(name),
    );
    return foreign.length === 0
      ? null
      : `holds other files (${foreign.length} entries) and no database`;
  }
  const version = (readOrNull(path.join(folder, 'PG_VERSION')) ?? '').trim();
  const shown = /^[0-9.]{1,8}$/.test(version) ? version : 'of an unknown version';
  if (isServerDataDirectory(folder)) {
    return `holds a PostgreSQL server's data directory (PostgreSQL ${shown}), which the embedded database never opens`;
  }
  if (version !== EMBEDDED_POSTGRES_MAJOR) {
    return (
      `holds a PostgreSQL ${shown} data directory, which the embedded database ` +
      `(PostgreSQL ${EMBEDDED_POSTGRES_MAJOR}) cannot open`
    );
  }
  return null;
}

/** The one line that refuses `folder`, naming what it is and what to set instead. */
function refusal(folder: string, problem: string, cause?: unknown): ConfigError {
  return new ConfigError(
    [
      `the embedded database folder ${folder} ${problem}; nothing was changed: set ` +
        `${DATA_DIR_VARIABLE} to a new or empty folder, or set DATABASE_URL to use a PostgreSQL server`,
    ],
    { cause },
  );
}

/**
 * Refuses, before anything is created or changed, a data folder the embedded database must
 * not open: a file, a PostgreSQL server's data directory, a database of another PostgreSQL
 * version, or a folder of other files (PGlite would write its database among them). Creates
 * the parent folder of a new one, which PGlite does not.
 */
function prepareDataFolder(folder: string): void {
  let problem: string | null;
  try {
    problem = folderProblem(folder);
  } catch (err) {
    const code = codeOf(err);
    if (code === 'ENOTDIR') throw refusal(folder, 'is inside a file, not a folder', err);
    if (code === undefined || !/^E[A-Z]+$/.test(code)) throw err;
    if (code !== 'ENOENT') throw new EmbeddedStorageError(folder, code, { cause: err });
    problem = null;
  }
  if (problem !== null) throw refusal(folder, problem);
  try {
    mkdirSync(path.dirname(folder), { recursive: true });
  } catch (err) {
    const code = codeOf(err);
    if (code === 'ENOTDIR' || code === 'EEXIST') {
      throw refusal(folder, 'is inside a file, not a folder', err);
    }
    throw code === undefined ? err : new EmbeddedStorageError(folder, code, { cause: err });
  }
}

function lockOrRefuse(dataDirectory: string): () => void {
  try {
    return lockDataDirectory(lockFileOf(dataDirectory));
  } catch (cause) {
    if (cause instanceof DataDirectoryLockedError) {
      throw new EmbeddedDatabaseBusyError(dataDirectory, { cause, holderPid: cause.owner?.pid });
    }
    throw cause;
  }
}

/**
 * Knex configuration for an embedded PostgreSQL (PGlite) keeping its files in `dataDirectory`.
 * PGlite has one connection and no guard against two processes sharing a folder (that
 * corrupts it), so the folder is locked here, before Knex exists, and a second process is
 * refused with {@link EmbeddedDatabaseBusyError}. The lock names the owning process and holds
 * for as long as that process lives, however long PGlite keeps its event loop busy (see
 * {@link lockDataDirectory}). Destroying the Knex instance closes PGlite and releases the lock
 * (so does the process ending). A process may end without closing PGlite (the Knex CLI exits
 * that way): every commit has reached the folder's WAL by then, since the backfill never turns
 * synchronous_commit off, and the next open replays it. Before any of that, missing embedded
 * packages are refused with a one-line {@link ConfigError}, and a folder PGlite must not open
 * is refused with a one-line {@link ConfigError} and left as it is; the parent
 * folder of a new one is created, since PGlite does not create it. A failure to write the
 * folder when PGlite opens it (a full disk) rejects as {@link EmbeddedStorageError}.
 */
export function embeddedKnexConfig(dataDirectory: string): Knex.Config {
  // Before the folder is looked at or created: without the packages, nothing is left behind.
  const embedded = embeddedPackages();
  prepareDataFolder(dataDirectory);
  const release = lockOrRefuse(dataDirectory);
  const connection = { pglite: embedded.open(dataDirectory, release) };
  const connect = () => connection;
  return {
    client: embedded.client,
    dialect: 'postgres',
    connection: connect as unknown as Knex.Config['connection'],
    acquireConnectionTimeout: EMBEDDED_OPEN_TIMEOUT_MS,
  };
}

/** Knex configuration for a throw-away PGlite database held in memory (for tests). */
export function inMemoryKnexConfig(): Knex.Config {
  return {
    client: embeddedPackages().client,
    dialect: 'postgres',
    connection: {},
  };
}

// The data folder's lock: PGlite has no guard against two processes sharing a folder.

/** Who holds a data folder's lock, as its lock file records it. */
export interface LockOwner {
  pid: number;
  host: string;
  /** The kernel's boot id (Linux), so that a lock from before a reboot reads as dead. */
  bootId: string | null;
  /** The owner's start time in clock ticks since boot (Linux), so a reused pid reads as dead. */
  startTicks: string | null;
  /** Tells this owner's lock file from a later one of the same process. */
  token: string;
}

/** Why a lock could not be taken: held by a live process, or one that cannot be checked. */
export class DataDirectoryLockedError extends Error {
  constructor(readonly owner: LockOwner | null) {
    super(owner ? `held by process ${owner.pid} on ${owner.host}` : 'being taken over');
  }
}

/**
 * A takeover holds its guard file for a few system calls; a guard older than this was left by a
 * process killed in that moment.
 */
const TAKEOVER_GUARD_STALE_MS = 30_000;

/** A file's text without surrounding whitespace, or null when there is no file. */
function readTrimmed(file: string): string | null {
  return readOrNull(file)?.trim() ?? null;
}

function startTicksOf(pid: number): string | null {
  // Field 22 of /proc/<pid>/stat, counted after the command name, which may hold spaces.
  const stat = readTrimmed(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

function currentOwner(): LockOwner {
  return {
    pid: process.pid,
    host: hostname(),
    bootId: readTrimmed('/proc/sys/kernel/random/boot_id'),
    startTicks: startTicksOf(process.pid),
    token: randomUUID(),
  };
}

function parseOwner(text: string): LockOwner | null {
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    return Number.isInteger(owner.pid) && typeof owner.host === 'string'
      ? (owner as LockOwner)
      : null;
  } catch {
    return null;
  }
}

/**
 * Whether the recorded owner is certainly gone: same host, and its process no longer runs (or
 * the machine rebooted, or its pid now belongs to a newer process). Never judged by age, so a
 * holder whose event loop is busy for hours keeps its lock.
 */
export function ownerIsDead(owner: LockOwner): boolean {
  const here = currentOwner();
  if (owner.host !== here.host) return false;
  if (owner.bootId && here.bootId && owner.bootId !== here.bootId) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  const ticks = owner.startTicks ? startTicksOf(owner.pid) : null;
  return ticks !== null && ticks !== owner.startTicks;
}

/** Creates `file` with `text`, atomically and complete, or throws EEXIST. */
function createExclusive(file: string, text: string): void {
  const draft = `${file}.${process.pid}.${randomUUID()}`;
  writeFileSync(draft, text, { flag: 'wx' });
  try {
    linkSync(draft, file);
  } finally {
    unlinkSync(draft);
  }
}

function isExisting(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'EEXIST';
}

/** Removes the lock file if it still holds `dead`, under a guard so two takeovers never cross. */
function removeDeadLock(lockPath: string, dead: string): void {
  const guard = `${lockPath}.takeover`;
  try {
    createExclusive(guard, String(process.pid));
  } catch (err) {
    if (!isExisting(err)) throw err;
    const age = Date.now() - (statSync(guard, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > TAKEOVER_GUARD_STALE_MS) unlinkSync(guard);
    return;
  }
  try {
    if (readTrimmed(lockPath) === dead) unlinkSync(lockPath);
  } finally {
    unlinkSync(guard);
  }
}

/**
 * Takes the lock file at `lockPath` for this process, or throws {@link DataDirectoryLockedError}
 * while a live process holds it. The file records the owner's pid, host, boot id and start
 * time; it is taken atomically (a complete file hard-linked into place), and one left by a
 * process that has died is taken over. Returns the release, which removes the file only while
 * it is still this owner's; the file is also removed when the process exits.
 */
export function lockDataDirectory(lockPath: string): () => void {
  const owner = currentOwner();
  const record = JSON.stringify(owner);
  for (let attempt = 0; ; attempt += 1) {
    try {
      createExclusive(lockPath, record);
      break;
    } catch (err) {
      if (!isExisting(err)) throw err;
    }
    const held = readTrimmed(lockPath);
    if (held === null) continue;
    const holder = parseOwner(held);
    if (holder === null || !ownerIsDead(holder) || attempt >= 3) {
      throw new DataDirectoryLockedError(holder);
    }
    removeDeadLock(lockPath, held);
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    if (readTrimmed(lockPath) === record) unlinkSync(lockPath);
  };
  process.on('exit', release);
  return release;
}

import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

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

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function startTicksOf(pid: number): string | null {
  // Field 22 of /proc/<pid>/stat, counted after the command name, which may hold spaces.
  const stat = readOrNull(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

function currentOwner(): LockOwner {
  return {
    pid: process.pid,
    host: hostname(),
    bootId: readOrNull('/proc/sys/kernel/random/boot_id'),
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
    if (readOrNull(lockPath) === dead) unlinkSync(lockPath);
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
    const held = readOrNull(lockPath);
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
    if (readOrNull(lockPath) === record) unlinkSync(lockPath);
  };
  process.on('exit', release);
  return release;
}

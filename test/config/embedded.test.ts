import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DataDirectoryLockedError,
  type LockOwner,
  lockDataDirectory,
  lockFileOf,
  openFailureCode,
  ownerIsDead,
  ROOM_TO_START_BYTES,
} from '../../src/config/embedded';
import { temporaryFolder } from '../support/embedded-folder';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function lockPathInScratch(): string {
  const folder = temporaryFolder('goal-backfill-lock-');
  cleanups.push(folder.remove);
  return lockFileOf(path.join(folder.root, 'pglite'));
}

/** PGlite's own rejection for `folder`, as it throws it (emscripten's ErrnoError is no Error). */
async function openFailure(folder: string): Promise<unknown> {
  const pg = new PGlite(folder);
  return pg.waitReady.then(
    () => pg.close().then(() => null),
    (err: unknown) => err,
  );
}

describe('openFailureCode: what PGlite throws when it cannot write its folder', () => {
  it('reads the errno of the ErrnoError PGlite throws, a full disk (errno 51) included', async () => {
    const root = temporaryFolder('goal-backfill-errno-');
    try {
      const file = path.join(root.root, 'file');
      writeFileSync(file, 'x');
      // A real one: PGlite over a file fails with ENOTDIR, errno 54, with no message or stack.
      const real = await openFailure(file);
      expect(real).not.toBeInstanceOf(Error);
      expect(Object.keys(real as object).sort()).toEqual(['errno', 'name']);
      expect(openFailureCode(real, file)).toBe('ENOTDIR');
      // The same class with the errno a full disk gives (seen in a real ENOSPC, in
      // embedded-disk-full.e2e.test.ts).
      const ErrnoError = (real as object).constructor as new (errno: number) => unknown;
      expect(openFailureCode(new ErrnoError(51), file)).toBe('ENOSPC');
      expect(openFailureCode(new ErrnoError(9999), file)).toBe('errno 9999');
    } finally {
      root.remove();
    }
  });

  it('reads a failed start as a full disk only when too little room is left to start', () => {
    const failed = new Error('PGlite failed to initialize properly');
    expect(openFailureCode(failed, '/x', () => 1024 * 1024)).toBe('ENOSPC');
    expect(openFailureCode(failed, '/x', () => ROOM_TO_START_BYTES)).toBeNull();
    expect(openFailureCode(failed, '/x', () => null)).toBeNull();
    expect(openFailureCode(new Error('something else'), '/x', () => 0)).toBeNull();
  });
});

/** A lock file as a process of this host that has died left it. */
const DEAD: LockOwner = {
  pid: 2 ** 22 + 7,
  host: hostname(),
  bootId: null,
  startTicks: null,
  token: 'dead',
};

/** Sets a file's times `seconds` into the past, as if it had lain there that long. */
function age(file: string, seconds: number): void {
  const then = new Date(Date.now() - seconds * 1000);
  utimesSync(file, then, then);
}

describe('lockDataDirectory', () => {
  it('refuses while this live process holds it, and frees it on release', () => {
    const lockPath = lockPathInScratch();
    const release = lockDataDirectory(lockPath);
    expect(() => lockDataDirectory(lockPath)).toThrow(DataDirectoryLockedError);
    release();
    lockDataDirectory(lockPath)();
  });

  it('judges an owner by its process, never by the age of the file', () => {
    const lockPath = lockPathInScratch();
    const release = lockDataDirectory(lockPath);
    const mine = JSON.parse(readFileSync(lockPath, 'utf8')) as LockOwner;
    const here = (overrides: Partial<LockOwner>): LockOwner => ({ ...mine, ...overrides });
    try {
      expect(ownerIsDead(here({}))).toBe(false);
      // A live holder's file a day old is still refused (there is no stale age).
      age(lockPath, 86_400);
      expect(() => lockDataDirectory(lockPath)).toThrow(DataDirectoryLockedError);
      // Not a live pid on this machine (beyond pid_max).
      expect(ownerIsDead(here({ pid: 2 ** 22 + 7 }))).toBe(true);
      // This machine, rebooted since.
      if (here({}).bootId) expect(ownerIsDead(here({ bootId: 'another-boot' }))).toBe(true);
      // The pid now belongs to a newer process.
      if (here({}).startTicks) expect(ownerIsDead(here({ startTicks: '1' }))).toBe(true);
      // Another machine sharing the folder cannot be checked, so it is never taken over.
      expect(ownerIsDead(here({ pid: 2 ** 22 + 7, host: `${hostname()}-other` }))).toBe(false);
    } finally {
      release();
    }
  });

  it('takes over a file left by a dead process, and only that one', () => {
    const lockPath = lockPathInScratch();
    writeFileSync(lockPath, JSON.stringify(DEAD));
    const release = lockDataDirectory(lockPath);
    expect((JSON.parse(readFileSync(lockPath, 'utf8')) as LockOwner).pid).toBe(process.pid);
    release();
    writeFileSync(lockPath, JSON.stringify({ ...DEAD, host: `${hostname()}-other` }));
    expect(() => lockDataDirectory(lockPath)).toThrow(DataDirectoryLockedError);
  });

  it('leaves a dead lock alone while another takeover holds its guard, and clears a guard left over 30 s ago', () => {
    const lockPath = lockPathInScratch();
    const guard = `${lockPath}.takeover`;
    writeFileSync(lockPath, JSON.stringify(DEAD));
    // A takeover in progress: its guard is fresh, so the dead lock is not touched.
    writeFileSync(guard, '1');
    expect(() => lockDataDirectory(lockPath)).toThrow(DataDirectoryLockedError);
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toEqual(DEAD);
    age(guard, 25);
    expect(() => lockDataDirectory(lockPath)).toThrow(DataDirectoryLockedError);
    // A guard whose process was killed mid-takeover: stale after 30 s, cleared, and the lock taken.
    age(guard, 31);
    const release = lockDataDirectory(lockPath);
    expect((JSON.parse(readFileSync(lockPath, 'utf8')) as LockOwner).pid).toBe(process.pid);
    expect(() => readFileSync(guard)).toThrow(/ENOENT/);
    release();
  });
});

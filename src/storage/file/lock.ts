/**
 * The write lock of a database directory: a `LOCK` file holding the owner's pid.
 * A second writer gets a {@link StorageLockedError}; a lock left by a process that
 * no longer runs is stale and is taken over.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StorageLockedError } from '../errors.js';

/** Name of the lock file inside a database directory. */
export const LOCK_FILE = 'LOCK';

/** Lock files younger than this with no readable owner are assumed to be mid-creation by another opener. */
const UNREADABLE_LOCK_GRACE_MS = 2_000;

/** Directories locked by this process: a pid check cannot tell two handles of one process apart. */
const heldInProcess = new Set<string>();

interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
}

/** A held lock; `release` removes it. */
export interface DirectoryLock {
  /** The pid of a crashed owner whose stale lock was taken over, if any. */
  readonly stalePid: number | undefined;
  /** Removes the lock file. Idempotent. */
  release(): void;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && Number.isSafeInteger(parsed.pid) && typeof parsed.hostname === 'string') return { pid: parsed.pid, hostname: parsed.hostname };
  } catch {
    // Unreadable or half-written: decided by age below.
  }
  return undefined;
}

/** True unless the OS says no process has this pid. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function isStale(file: string, owner: LockOwner | undefined, key: string): boolean {
  if (owner === undefined) {
    const ageMs = Date.now() - fs.statSync(file).mtimeMs;
    return ageMs > UNREADABLE_LOCK_GRACE_MS;
  }
  // A lock from another host (a shared network directory) cannot be checked: never break it.
  if (owner.hostname !== os.hostname()) return false;
  if (owner.pid === process.pid) return !heldInProcess.has(key);
  return !processAlive(owner.pid);
}

/**
 * Takes the write lock of `dir`.
 * @throws StorageLockedError when a live process (or another handle in this one) holds it.
 */
export function acquireLock(dir: string): DirectoryLock {
  const key = fs.realpathSync(dir);
  const file = path.join(dir, LOCK_FILE);
  let stalePid: number | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (!heldInProcess.has(key)) {
      try {
        const fd = fs.openSync(file, 'wx');
        try {
          fs.writeSync(fd, JSON.stringify({ pid: process.pid, hostname: os.hostname() }));
        } finally {
          fs.closeSync(fd);
        }
        heldInProcess.add(key);
        return makeLock(file, key, stalePid);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    let owner: LockOwner | undefined;
    try {
      owner = readOwner(file);
      if (!isStale(file, owner, key)) break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: retry
      throw error;
    }
    // Rename rather than unlink: of two processes breaking the same stale lock, only one rename succeeds.
    const aside = `${file}.stale-${process.pid}`;
    try {
      fs.renameSync(file, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    fs.rmSync(aside, { force: true });
    stalePid = owner?.pid;
  }
  const owner = fs.existsSync(file) ? readOwner(file) : undefined;
  throw new StorageLockedError(
    `database ${dir} is open for writing by ${owner ? `process ${owner.pid} on ${owner.hostname}` : 'another handle'}; close it first (a lock left by a crashed process is taken over automatically)`,
    { dir, pid: owner?.pid },
  );
}

function makeLock(file: string, key: string, stalePid: number | undefined): DirectoryLock {
  let held = true;
  return {
    stalePid,
    release() {
      if (!held) return;
      held = false;
      heldInProcess.delete(key);
      fs.rmSync(file, { force: true });
    },
  };
}

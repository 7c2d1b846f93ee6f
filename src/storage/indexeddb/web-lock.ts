/**
 * One writer per IndexedDB database across tabs and windows, through the Web
 * Locks API: two tabs writing under one replica id would reuse sequence
 * numbers. Held for as long as the storage is open; the browser releases it
 * when the tab closes, crashes or navigates away.
 */
import { StorageLockedError } from '../errors.js';

/** The part of the Web Locks API (`navigator.locks`) this module uses. */
export interface LockManagerLike {
  request(name: string, options: { readonly mode: 'exclusive'; readonly signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<unknown>;
}

/** The platform's lock manager (browsers, Deno, recent Node), or undefined where there is none. */
export function platformLocks(): LockManagerLike | undefined {
  return (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
}

/**
 * Takes the exclusive lock `name`, waiting up to `waitMs` for a holder to let go (a tab being reloaded
 * releases its lock a moment after the new page starts). Resolves with the function that releases it.
 * @throws StorageLockedError when another holder keeps it past `waitMs`.
 */
export function acquireExclusive(locks: LockManagerLike, name: string, waitMs: number, what: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const gaveUp = new AbortController();
    const timer = setTimeout(() => gaveUp.abort(), waitMs);
    locks
      .request(name, { mode: 'exclusive', signal: gaveUp.signal }, () => {
        clearTimeout(timer);
        // The lock stays held until this promise settles: that is, until the storage closes.
        return new Promise<void>((release) => resolve(() => release()));
      })
      .catch((error: unknown) => {
        clearTimeout(timer);
        if ((error as { name?: string }).name === 'AbortError') {
          reject(new StorageLockedError(`${what} is open for writing in another tab or window (Web Lock "${name}" still held after ${waitMs} ms); close it there first`, { lock: name }));
        } else {
          reject(error);
        }
      });
  });
}

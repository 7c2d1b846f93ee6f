/** One writer per IndexedDB database across tabs: the Web Lock taken at open and released at close. */
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { StorageLockedError } from '../../src/storage/errors.js';
import { Replica } from '../../src/core/replica.js';
import { IndexedDbStorage } from '../../src/storage/indexeddb/idb-storage.js';
import { MemoryLockManager } from '../support/lock-manager.js';

/** Lock managers release a lock once the holder's promise settles: a turn after close. */
const settled = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('IndexedDbStorage cross-tab lock', () => {
  it('a second open of the same database fails with STORAGE_LOCKED and leaves the first writing; close lets it in', async () => {
    const factory = new IDBFactory();
    const locks = new MemoryLockManager();
    const first = await Replica.open({ storage: await IndexedDbStorage.open('notes', { factory, locks }), replicaId: 'tab-1' });
    await first.set('a', 1);
    const second = IndexedDbStorage.open('notes', { factory, locks, lockWaitMs: 50 });
    await expect(second).rejects.toBeInstanceOf(StorageLockedError);
    await expect(second).rejects.toMatchObject({ code: 'STORAGE_LOCKED', details: { lock: 'tidelog:indexeddb:notes' } });
    // The refused open changed nothing: the first tab keeps writing, and everything is there after it closes.
    await first.set('b', 2);
    await first.close();
    await settled();
    expect(locks.heldNames()).toEqual([]);
    const reopened = await Replica.open({ storage: await IndexedDbStorage.open('notes', { factory, locks, lockWaitMs: 50 }) });
    expect(reopened.replicaId).toBe('tab-1');
    expect(reopened.entries()).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    await reopened.close();
  });

  it('waits for a holder that lets go within lockWaitMs (a tab being reloaded)', async () => {
    const factory = new IDBFactory();
    const locks = new MemoryLockManager();
    const first = await IndexedDbStorage.open('reload', { factory, locks });
    const second = IndexedDbStorage.open('reload', { factory, locks, lockWaitMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await first.close();
    const storage = await second;
    expect(locks.heldNames()).toEqual(['tidelog:indexeddb:reload']);
    await storage.close();
    await settled();
    expect(locks.heldNames()).toEqual([]);
  });

  it('different databases do not block each other, and locks: null opts out', async () => {
    const factory = new IDBFactory();
    const locks = new MemoryLockManager();
    const a = await IndexedDbStorage.open('a', { factory, locks, lockWaitMs: 50 });
    const b = await IndexedDbStorage.open('b', { factory, locks, lockWaitMs: 50 });
    const unlocked = await IndexedDbStorage.open('a', { factory, locks: null });
    expect(locks.heldNames().sort()).toEqual(['tidelog:indexeddb:a', 'tidelog:indexeddb:b']);
    await Promise.all([a.close(), b.close(), unlocked.close()]);
    await settled();
    expect(locks.heldNames()).toEqual([]);
  });
});

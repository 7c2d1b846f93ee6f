/** IndexedDB specifics beyond the shared contract: the stores' layout and damaged values. */
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { StorageCorruptError } from '../../src/core/errors.js';
import { Replica } from '../../src/core/replica.js';
import { IndexedDbStorage } from '../../src/storage/indexeddb/idb-storage.js';

function rawOpen(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function rawRequest<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

describe('IndexedDbStorage layout', () => {
  it('keeps one batch per commit keyed by sequence number and drops covered batches with the snapshot', async () => {
    const factory = new IDBFactory();
    const replica = await Replica.open({ storage: await IndexedDbStorage.open('layout', { factory }), replicaId: 'idb' });
    await replica.set('a', 1);
    await replica.batch([
      { type: 'set', key: 'b', value: 2 },
      { type: 'set', key: 'c', value: 3 },
    ]);
    await replica.set('d', 4);
    await replica.close();
    let db = await rawOpen(factory, 'layout');
    expect([...db.objectStoreNames].sort()).toEqual(['batches', 'meta', 'snapshots']);
    expect(await rawRequest(db.transaction('batches').objectStore('batches').getAllKeys())).toEqual([1, 2, 3]);
    db.close();

    const reopened = await Replica.open({ storage: await IndexedDbStorage.open('layout', { factory }) });
    await reopened.compact({ retainOps: 1 });
    await reopened.close();
    db = await rawOpen(factory, 'layout');
    // Batches 1 and 2 are covered by the snapshot; batch 3 holds the retained op.
    expect(await rawRequest(db.transaction('batches').objectStore('batches').getAllKeys())).toEqual([3]);
    expect(await rawRequest(db.transaction('snapshots').objectStore('snapshots').getAllKeys())).toEqual(['current']);
    db.close();
    const again = await Replica.open({ storage: await IndexedDbStorage.open('layout', { factory }) });
    expect(again.entries()).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['d', 4],
    ]);
    const next = await again.set('e', 5);
    expect(next.seq).toBe(5);
    await again.close();
  });

  it('refuses a damaged batch or meta value with a typed error and leaves it in place', async () => {
    const factory = new IDBFactory();
    const replica = await Replica.open({ storage: await IndexedDbStorage.open('damaged', { factory }), replicaId: 'idb' });
    await replica.set('a', 1);
    await replica.set('b', 2);
    await replica.close();
    const db = await rawOpen(factory, 'damaged');
    const garbage = new TextEncoder().encode('{"v":1,"r":["idb"],"o":[[0,2,0,0,"b"');
    await rawRequest(db.transaction('batches', 'readwrite').objectStore('batches').put(garbage, 2));
    db.close();
    const storage = await IndexedDbStorage.open('damaged', { factory });
    await expect(Replica.open({ storage })).rejects.toBeInstanceOf(StorageCorruptError);
    await storage.close();
    const check = await rawOpen(factory, 'damaged');
    expect(await rawRequest(check.transaction('batches').objectStore('batches').getAllKeys())).toEqual([1, 2]);
    check.close();
    await expect(IndexedDbStorage.open('', { factory })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, MemoryStorage, Replica, seededRandom, type StoredLog } from '../../src/index.js';

/** A memory storage whose next load reports that recovery cut the log tail. */
class TailLostStorage extends MemoryStorage {
  tailLost = false;
  closes = 0;
  override async load(): Promise<StoredLog> {
    const stored = await super.load();
    return { ...stored, tailLost: this.tailLost };
  }
  override async close(): Promise<void> {
    this.closes += 1;
    await super.close();
  }
}

describe('replica identity across recovery', () => {
  it('takes a new replica id when recovery lost the log tail, keeping the data', async () => {
    const storage = new TailLostStorage();
    const first = await Replica.open({ storage, random: seededRandom(1) });
    await first.set('a', 1);
    const oldId = first.replicaId;
    await first.close();

    storage.tailLost = true;
    const second = await Replica.open({ storage, random: seededRandom(2) });
    expect(second.replicaId).not.toBe(oldId);
    expect(second.identityRotatedFrom).toBe(oldId);
    expect(second.get('a')).toBe(1);
    const op = await second.set('b', 2);
    // The new identity starts its own sequence: no op id of the old identity is reused.
    expect(op.replica).toBe(second.replicaId);
    expect(op.seq).toBe(1);
    await second.close();

    storage.tailLost = false;
    const third = await Replica.open({ storage });
    expect(third.replicaId).toBe(second.replicaId);
    expect(third.identityRotatedFrom).toBeUndefined();
    expect(third.entries()).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    await third.close();
  });

  it('keeps the id when nothing was lost', async () => {
    const storage = new TailLostStorage();
    const first = await Replica.open({ storage });
    const id = first.replicaId;
    await first.close();
    const again = await Replica.open({ storage });
    expect(again.replicaId).toBe(id);
    expect(again.identityRotatedFrom).toBeUndefined();
    await again.close();
  });

  it('releases the storage when open fails', async () => {
    const storage = new TailLostStorage();
    const first = await Replica.open({ storage, replicaId: 'alpha' });
    await first.close();
    const closesBefore = storage.closes;
    await expect(Replica.open({ storage, replicaId: 'beta' })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(storage.closes).toBe(closesBefore + 1);
  });
});

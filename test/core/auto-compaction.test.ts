import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ManualClock, MemoryStorage, type Op, Replica, type Snapshot } from '../../src/core/index.js';
import { MemoryRoom } from '../../src/sync/memory-transport.js';
import { ManualScheduler } from '../../src/sync/scheduler.js';
import { SyncSession } from '../../src/sync/session.js';
import { FlakyStorage, flush } from './doubles.js';

/** A MemoryStorage that counts the snapshots written. */
class CountingStorage extends MemoryStorage {
  snapshots = 0;

  override async writeSnapshot(snapshot: Snapshot): Promise<void> {
    this.snapshots += 1;
    await super.writeSnapshot(snapshot);
  }
}

async function writeBatches(replica: Replica, from: number, to: number, keys: number): Promise<void> {
  for (let start = from; start < to; start += 100) {
    await replica.batch((w) => {
      for (let i = start; i < Math.min(to, start + 100); i++) w.set(`k${i % keys}`, i);
    });
  }
}

describe('automatic compaction (heldOpsMax)', () => {
  it('compacts by itself once more ops are held than heldOpsMax, keeping historyOpsRetained, with every value intact', async () => {
    const storage = new CountingStorage();
    const r = await Replica.open({ replicaId: 'a', storage, clock: new ManualClock(1), heldOpsMax: 1_000, historyOpsRetained: 100 });
    await writeBatches(r, 0, 5_000, 300);
    await r.ready();
    await flush(50);
    expect(storage.snapshots).toBeGreaterThanOrEqual(4);
    expect(storage.snapshots).toBeLessThanOrEqual(6);
    expect(r.horizon().a).toBeGreaterThan(3_000);
    expect(r.opsSince(r.horizon()).length).toBeLessThanOrEqual(1_000);
    for (let k = 0; k < 300; k++) expect(r.get(`k${k}`)).toBe(k + 300 * Math.floor((4_999 - k) / 300));
    expect(r.versionVector()).toEqual({ a: 5_000 });
    // History reaches back to the horizon, no further.
    expect(() => r.stateAt({ versionVector: { a: 10 } })).toThrow(/compacted/);
  });

  it('never compacts with heldOpsMax: Infinity, and refuses a bound at or under historyOpsRetained', async () => {
    const storage = new CountingStorage();
    const r = await Replica.open({ replicaId: 'a', storage, heldOpsMax: Number.POSITIVE_INFINITY, historyOpsRetained: 10 });
    await writeBatches(r, 0, 3_000, 50);
    await flush(50);
    expect(storage.snapshots).toBe(0);
    expect(r.opsSince({}).length).toBe(3_000);
    await expect(Replica.open({ heldOpsMax: 10, historyOpsRetained: 10 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(Replica.open({ heldOpsMax: 0.5 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('compacts a log recovered past the bound right after open, so the next open starts from a snapshot', async () => {
    const storage = new CountingStorage();
    const writer = await Replica.open({ replicaId: 'a', storage, heldOpsMax: Number.POSITIVE_INFINITY });
    await writeBatches(writer, 0, 4_000, 100);
    await writer.close();
    expect(storage.batchCount).toBe(40);
    const reopened = await Replica.open({ storage, heldOpsMax: 1_000, historyOpsRetained: 200 });
    expect(reopened.get('k99')).toBe(3_999);
    await reopened.close(); // waits for the queued compaction
    expect(storage.snapshots).toBe(1);
    expect(storage.batchCount).toBeLessThan(40);
    const third = await Replica.open({ storage, heldOpsMax: 1_000, historyOpsRetained: 200 });
    expect(third.opsSince(third.horizon()).length).toBeLessThanOrEqual(300);
    expect(third.get('k0')).toBe(3_900);
    await third.close();
  });

  it('does not run on every commit when the held ops cannot be folded (they sit above a gap)', async () => {
    const storage = new CountingStorage();
    const r = await Replica.open({ replicaId: 'a', storage, clock: new ManualClock(1), heldOpsMax: 500, historyOpsRetained: 50 });
    // 2,000 ops of replica b from seq 2 on: seq 1 never came, so none is contiguous and none can be compacted.
    const ops: Op[] = Array.from({ length: 2_000 }, (_, i) => ({ replica: 'b', seq: i + 2, wall: 5, logical: i, key: `b${i}`, type: 'set', value: i }));
    for (let i = 0; i < ops.length; i += 10) await r.applyRemote(ops.slice(i, i + 10));
    await flush(50);
    // Due again only after heldOpsMax - retainOps more ops: a handful of tries, not one per commit (200 commits).
    const tries = (r as unknown as { pipeline: { autoCompactions: number } }).pipeline.autoCompactions;
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(tries).toBeLessThanOrEqual(4);
    expect(storage.snapshots).toBe(0);
    expect(r.size).toBe(2_000);
  });

  it('keeps writing when the snapshot cannot be written, and tries again later', async () => {
    const storage = new FlakyStorage();
    storage.failSnapshot = true;
    const r = await Replica.open({ replicaId: 'a', storage, heldOpsMax: 500, historyOpsRetained: 50 });
    await writeBatches(r, 0, 2_000, 10);
    await flush(50);
    expect(r.versionVector()).toEqual({ a: 2_000 });
    expect(r.horizon()).toEqual({});
    storage.failSnapshot = false;
    await writeBatches(r, 2_000, 3_000, 10);
    await flush(50);
    expect(r.horizon().a).toBeGreaterThan(0);
    expect(r.get('k9')).toBe(2_999);
  });

  it('is safe for a peer that was offline across the automatic compactions: it converges through the snapshot transfer', async () => {
    const scheduler = new ManualScheduler();
    const room = new MemoryRoom();
    const a = await Replica.open({ replicaId: 'a', clock: new ManualClock(1), heldOpsMax: 600, historyOpsRetained: 50 });
    const b = await Replica.open({ replicaId: 'b', clock: new ManualClock(1) });
    await writeBatches(a, 0, 200, 40);
    await b.applyRemote(a.opsSince({}));
    await b.set('from-b', 1);
    // b is away while a writes 3,000 more ops and compacts several times.
    await writeBatches(a, 200, 3_200, 40);
    await a.delete('k3');
    await flush(50);
    expect(a.horizon().a).toBeGreaterThan(2_000);
    const sa = new SyncSession(a, room.join(), { scheduler });
    const sb = new SyncSession(b, room.join(), { scheduler });
    sa.start();
    sb.start();
    for (let i = 0; i < 50; i++) {
      await flush(20);
      scheduler.advance(200);
    }
    expect(JSON.stringify(b.entries())).toBe(JSON.stringify(a.entries()));
    expect(b.has('k3')).toBe(false);
    expect(b.versionVector()).toEqual(a.versionVector());
    await sa.stop();
    await sb.stop();
  });
});

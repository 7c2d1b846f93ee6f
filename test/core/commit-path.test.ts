import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryStorage, type Op, Replica, StorageFailedError } from '../../src/core/index.js';
import { FlakyStorage, flush, GatedStorage, observe } from './doubles.js';

describe('group commit', () => {
  it('N concurrent sets are committed in few appends, each resolving after its append', async () => {
    const storage = new GatedStorage();
    const r = await Replica.open({ replicaId: 'a', storage, clock: new ManualClock(1) });
    const settled: number[] = [];
    const writes = Array.from({ length: 1_000 }, (_, i) => r.set(`k${i}`, i).then((op) => settled.push(op.seq)));
    await flush();
    expect(storage.appended).toHaveLength(1);
    expect(storage.appended[0]).toHaveLength(1_000);
    // Not durable yet: nothing resolved, and reads do not show uncommitted writes.
    expect(settled).toEqual([]);
    expect(r.size).toBe(0);
    storage.releaseAll();
    await Promise.all(writes);
    expect(settled).toHaveLength(1_000);
    expect(r.size).toBe(1_000);
    expect(storage.appended).toHaveLength(1);
  });

  it('writes arriving during a commit form the next group; groups respect groupOpsMax', async () => {
    const storage = new GatedStorage();
    const r = await Replica.open({ replicaId: 'a', storage, groupOpsMax: 100 });
    const first = r.set('first', 1);
    await flush();
    expect(storage.appended.map((b) => b.length)).toEqual([1]);
    const later = Array.from({ length: 250 }, (_, i) => r.set(`k${i}`, i));
    const batch = r.batch(Array.from({ length: 150 }, (_, i) => ({ type: 'set' as const, key: `b${i}`, value: i })));
    for (let round = 0; round < 10 && storage.waiting > 0; round++) {
      storage.releaseAll();
      await flush();
    }
    await Promise.all([first, batch, ...later]);
    // 250 singles in groups of <= 100, then the 150-op batch alone (larger than a group, never split).
    expect(storage.appended.map((b) => b.length)).toEqual([1, 100, 100, 50, 150]);
    const seqs = storage.appended.flat().map((op) => op.seq);
    expect(seqs).toEqual(Array.from({ length: 401 }, (_, i) => i + 1));
  });

  it('reads never wait for the writer', async () => {
    const storage = new GatedStorage();
    const r = await Replica.open({ replicaId: 'a', storage });
    void r.set('slow', 1);
    await flush();
    expect(storage.waiting).toBe(1);
    expect(r.get('slow')).toBeUndefined();
    expect(r.keys()).toEqual([]);
    expect(r.versionVector()).toEqual({});
    storage.releaseAll();
  });
});

describe('compaction in the commit path', () => {
  it('runs alone between queued writes and loses none of them', async () => {
    const storage = new GatedStorage();
    const r = await Replica.open({ replicaId: 'a', storage, clock: new ManualClock(1) });
    const before = Array.from({ length: 10 }, (_, i) => r.set(`k${i % 3}`, i));
    const compaction = r.compact({ retainOps: 2 });
    const after = Array.from({ length: 5 }, (_, i) => r.set(`k${i % 3}`, 100 + i));
    while (storage.waiting > 0 || r.pendingOps > 0) {
      storage.releaseAll();
      await flush();
    }
    await Promise.all([...before, ...after]);
    expect(await compaction).toEqual({ compactedOps: 8, retainedOps: 2, base: { a: 8 } });
    expect(storage.appended.map((b) => b.length)).toEqual([10, 5]);
    expect(r.entries()).toEqual([
      ['k0', 103],
      ['k1', 104],
      ['k2', 102],
    ]);
    expect(r.versionVector()).toEqual({ a: 15 });
  });
});

describe('backpressure', () => {
  it('writers beyond pendingOpsMax wait; awaiting writers keep the backlog bounded by their number', async () => {
    const storage = new GatedStorage();
    const r = await Replica.open({ replicaId: 'a', storage, pendingOpsMax: 8, groupOpsMax: 4 });
    const writers = 20;
    const perWriter = 10;
    let done = 0;
    let backlogMax = 0;
    const loops = Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) await r.set(`w${w}`, i);
      done += 1;
    });
    while (done < writers) {
      await flush();
      backlogMax = Math.max(backlogMax, r.pendingOps);
      // While an append is held, no writer gets ahead: every op in flight is one group.
      for (const batch of storage.appended) expect(batch.length).toBeLessThanOrEqual(4);
      storage.releaseOne();
    }
    await Promise.all(loops);
    expect(backlogMax).toBeLessThanOrEqual(writers);
    expect(r.versionVector()).toEqual({ a: writers * perWriter });
    expect(r.entries().every(([, v]) => v === perWriter - 1)).toBe(true);
  });

  it('a pipelined producer awaiting ready() keeps the backlog under pendingOpsMax while storage is stuck', async () => {
    const storage = new GatedStorage();
    const pendingOpsMax = 64;
    const r = await Replica.open({ replicaId: 'a', storage, pendingOpsMax, groupOpsMax: 16 });
    const total = 2_000;
    let issued = 0;
    const writes: Promise<Op>[] = [];
    const producer = (async () => {
      for (let i = 0; i < total; i++) {
        await r.ready();
        writes.push(r.set(`k${i % 50}`, i));
        issued += 1;
      }
    })();
    await flush(200);
    // Storage holds the first append: the producer has stopped at pendingOpsMax, memory does not grow.
    expect(storage.waiting).toBe(1);
    expect(r.pendingOps).toBeLessThanOrEqual(pendingOpsMax);
    const stalledAt = issued;
    expect(stalledAt).toBeLessThanOrEqual(pendingOpsMax + 16);
    await flush(200);
    expect(issued).toBe(stalledAt);
    let backlogMax = 0;
    while (issued < total || storage.waiting > 0) {
      storage.releaseAll();
      await flush();
      backlogMax = Math.max(backlogMax, r.pendingOps);
    }
    await producer;
    await Promise.all(writes);
    expect(backlogMax).toBeLessThanOrEqual(pendingOpsMax);
    expect(r.versionVector()).toEqual({ a: total });
    expect(r.get('k49')).toBe(total - 1);
  });

  it('fire-and-forget writers beyond the limit are admitted in order and all commit', async () => {
    const storage = new GatedStorage();
    const r = await Replica.open({ replicaId: 'a', storage, pendingOpsMax: 10, groupOpsMax: 5 });
    const writes = Array.from({ length: 53 }, (_, i) => r.set('k', i));
    while (storage.waiting > 0 || r.pendingOps > 0) {
      storage.releaseAll();
      await flush();
    }
    const ops = await Promise.all(writes);
    expect(ops.map((op) => op.seq)).toEqual(Array.from({ length: 53 }, (_, i) => i + 1));
    expect(storage.appended.every((b) => b.length <= 5)).toBe(true);
    expect(r.get('k')).toBe(52);
  });
});

describe('storage failures', () => {
  it('a failed append rejects with StorageFailedError, changes nothing, and later writes keep contiguous seqs', async () => {
    const storage = new FlakyStorage();
    const r = await Replica.open({ replicaId: 'a', storage, clock: new ManualClock(1) });
    await r.set('x', 1);
    const before = observe(r);
    const events: unknown[] = [];
    r.subscribe((event) => events.push(event));
    storage.failNext = 1;
    const failed = [r.set('x', 2), r.set('y', 1), r.batch([{ type: 'delete', key: 'x' }])];
    for (const write of failed) {
      const error = await write.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageFailedError);
      expect(error).toMatchObject({ code: 'STORAGE_FAILED' });
      expect((error as Error).cause).toBeInstanceOf(Error);
    }
    expect(observe(r)).toBe(before);
    expect(events).toEqual([]);
    expect(r.history('x')).toHaveLength(1);
    const next = await r.set('y', 2);
    expect(next.seq).toBe(2);
    expect(r.versionVector()).toEqual({ a: 2 });
    // Reopening shows exactly the committed writes.
    await r.close();
    const again = await Replica.open({ storage });
    expect(again.entries()).toEqual([
      ['x', 1],
      ['y', 2],
    ]);
  });

  it('a failed append of remote ops applies none of them; a retry applies all', async () => {
    const storage = new FlakyStorage();
    const r = await Replica.open({ replicaId: 'a', storage });
    const remote = [
      { replica: 'b', seq: 1, wall: 5, logical: 0, key: 'k', type: 'set', value: 1 },
      { replica: 'b', seq: 2, wall: 6, logical: 0, key: 'j', type: 'set', value: 2 },
    ];
    storage.failNext = 1;
    await expect(r.applyRemote(remote)).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(r.entries()).toEqual([]);
    expect(r.versionVector()).toEqual({});
    expect(await r.applyRemote(remote)).toMatchObject({ applied: 2 });
    expect(r.versionVector()).toEqual({ b: 2 });
  });

  it('a failed compaction snapshot leaves the log and horizon as they were', async () => {
    const storage = new FlakyStorage();
    const r = await Replica.open({ replicaId: 'a', storage });
    for (let i = 0; i < 5; i++) await r.set(`k${i}`, i);
    const before = observe(r);
    storage.failSnapshot = true;
    await expect(r.compact({ retainOps: 1 })).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(observe(r)).toBe(before);
    expect(r.history('k0')).toHaveLength(1);
    storage.failSnapshot = false;
    expect(await r.compact({ retainOps: 1 })).toMatchObject({ compactedOps: 4 });
  });

  it('a failed snapshot while adopting a peer horizon leaves the horizon as stored; a retry adopts it', async () => {
    const sender = await Replica.open({ replicaId: 's', clock: new ManualClock(10) });
    for (let i = 0; i < 6; i++) await sender.set(`k${i % 2}`, i);
    await sender.compact({ retainOps: 1 });
    const storage = new FlakyStorage();
    const r = await Replica.open({ replicaId: 'r', storage });
    storage.failSnapshot = true;
    await expect(r.applyRemote(sender.opsSince({}), { horizon: sender.horizon() })).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(r.horizon()).toEqual({});
    storage.failSnapshot = false;
    await r.applyRemote(sender.opsSince(r.versionVector()), { horizon: sender.horizon() });
    expect(r.horizon()).toEqual(sender.horizon());
    expect(r.entries()).toEqual(sender.entries());
    expect(r.versionVector()).toEqual(sender.versionVector());
    await r.close();
    const again = await Replica.open({ storage });
    expect(again.entries()).toEqual(sender.entries());
    expect(again.versionVector()).toEqual(sender.versionVector());
  });

  it('a write into a storage closed underneath fails typed and the replica stays usable for reads', async () => {
    const storage = new MemoryStorage();
    const r = await Replica.open({ replicaId: 'a', storage });
    await r.set('x', 1);
    await storage.close();
    await expect(r.set('x', 2)).rejects.toMatchObject({ code: 'REPLICA_CLOSED' });
    expect(r.get('x')).toBe(1);
  });
});

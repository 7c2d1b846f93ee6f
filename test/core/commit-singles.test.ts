/** The commit path for a group of single writes (many writers each awaiting its write): same outcomes as any group. */
import { describe, expect, it } from 'vitest';
import { type ChangeEvent, ManualClock, Replica, StorageFailedError } from '../../src/core/index.js';
import { FlakyStorage, flush, GatedStorage, observe } from './doubles.js';

describe('a group of single writes', () => {
  it('each write resolves with its own op, in order, with one change event per write', async () => {
    const storage = new GatedStorage();
    const r = await Replica.open({ replicaId: 'a', storage, clock: new ManualClock(1) });
    const events: ChangeEvent[] = [];
    r.subscribe((event) => events.push(event));
    const writes = [r.set('x', 1), r.delete('x'), r.set('y', { n: 2 }), r.set('x', 3)];
    await flush();
    expect(storage.appended).toHaveLength(1);
    expect(storage.appended[0]?.map((op) => op.seq)).toEqual([1, 2, 3, 4]);
    expect(events).toEqual([]);
    storage.releaseAll();
    const ops = await Promise.all(writes);
    expect(ops.map((op) => [op.seq, op.key, op.type])).toEqual([
      [1, 'x', 'set'],
      [2, 'x', 'delete'],
      [3, 'y', 'set'],
      [4, 'x', 'set'],
    ]);
    expect(events.map((event) => [event.origin, event.ops, event.changes.map((c) => [c.key, c.previous, c.value])])).toEqual([
      ['local', [ops[0]], [['x', undefined, 1]]],
      ['local', [ops[1]], [['x', 1, undefined]]],
      ['local', [ops[2]], [['y', undefined, { n: 2 }]]],
      ['local', [ops[3]], [['x', undefined, 3]]],
    ]);
    expect(r.entries()).toEqual([
      ['x', 3],
      ['y', { n: 2 }],
    ]);
    await r.close();
  });

  it('a failed append rejects every write of the group, changes nothing, and gives the seqs back', async () => {
    const storage = new FlakyStorage();
    const r = await Replica.open({ replicaId: 'a', storage, clock: new ManualClock(1) });
    await r.set('x', 1);
    const before = observe(r);
    storage.failNext = 1;
    const failed = await Promise.allSettled([r.set('x', 2), r.set('y', 1), r.delete('x')]);
    expect(failed.map((f) => (f.status === 'rejected' ? (f.reason as Error).constructor : f.status))).toEqual([StorageFailedError, StorageFailedError, StorageFailedError]);
    expect(observe(r)).toBe(before);
    const next = await Promise.all([r.set('y', 2), r.set('z', 3)]);
    expect(next.map((op) => op.seq)).toEqual([2, 3]);
    expect(r.versionVector()).toEqual({ a: 3 });
    // No listener: the group is published without change records, to the same log and state.
    expect(r.entries()).toEqual([
      ['x', 1],
      ['y', 2],
      ['z', 3],
    ]);
    expect(r.history('y').map((op) => op.seq)).toEqual([2]);
    expect(r.opsSince({}).map((op) => op.seq)).toEqual([1, 2, 3]);
    await r.close();
  });
});

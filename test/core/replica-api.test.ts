import { describe, expect, it } from 'vitest';
import { type ChangeEvent, type JsonValue, ManualClock, MemoryStorage, Replica, ReplicaClosedError, seededRandom } from '../../src/core/index.js';
import { errorOf } from './doubles.js';

async function open(id = 'a', clock = new ManualClock(1_000)): Promise<Replica> {
  return Replica.open({ replicaId: id, clock });
}

describe('Replica writes and reads', () => {
  it('set, get, has, size, delete', async () => {
    const r = await open();
    const op = await r.set('k', { a: [1, 'x', null, true] });
    expect(op).toMatchObject({ replica: 'a', seq: 1, key: 'k', type: 'set', wall: 1_000, logical: 0 });
    expect(r.get('k')).toEqual({ a: [1, 'x', null, true] });
    expect(r.has('k')).toBe(true);
    expect(r.size).toBe(1);
    const del = await r.delete('k');
    expect(del).toMatchObject({ seq: 2, type: 'delete', key: 'k' });
    expect(del).not.toHaveProperty('value');
    expect(r.get('k')).toBeUndefined();
    expect(r.has('k')).toBe(false);
    expect(r.size).toBe(0);
    expect(r.has('never')).toBe(false);
  });

  it('stores a frozen copy: the caller cannot change a stored value afterwards', async () => {
    const r = await open();
    const value = { list: [1, 2], nested: { x: 1 } };
    await r.set('k', value);
    value.list.push(3);
    value.nested.x = 99;
    expect(r.get('k')).toEqual({ list: [1, 2], nested: { x: 1 } });
    expect(Object.isFrozen(r.get('k'))).toBe(true);
  });

  it('keeps a "__proto__" own key of a JSON.parse value as data', async () => {
    const r = await open();
    const value = JSON.parse('{"__proto__": {"polluted": true}, "b": 1}');
    await r.set('k', value);
    const stored = r.get('k') as Record<string, unknown>;
    expect(JSON.stringify(stored)).toBe(JSON.stringify(value));
    expect(Object.getPrototypeOf(stored)).toBe(Object.prototype);
    expect(Object.keys(stored)).toEqual(['__proto__', 'b']);
  });

  it('accepts every JSON value kind, including null-prototype objects and nested arrays', async () => {
    const r = await open();
    const bare = Object.create(null) as Record<string, unknown>;
    bare.x = 1;
    const values: JsonValue[] = [null, true, false, 0, -1.5, 1e308, '', 'ünï', [], {}, [[[]]], bare as JsonValue];
    for (const [i, v] of values.entries()) await r.set(`k${i}`, v);
    for (const [i, v] of values.entries()) expect(r.get(`k${i}`)).toEqual(v);
  });

  it('sequence numbers are contiguous from 1 and timestamps strictly increase', async () => {
    const clock = new ManualClock(5);
    const r = await open('a', clock);
    const ops = [];
    for (let i = 0; i < 5; i++) ops.push(await r.set('k', i));
    clock.set(1); // wall clock jumps backwards
    ops.push(await r.set('k', 5));
    expect(ops.map((op) => op.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (let i = 1; i < ops.length; i++) {
      const [p, q] = [ops[i - 1]!, ops[i]!];
      expect(q.wall > p.wall || (q.wall === p.wall && q.logical > p.logical)).toBe(true);
    }
    expect(r.versionVector()).toEqual({ a: 6 });
  });

  it('batch (array form) commits several ops at once, in order', async () => {
    const storage = new MemoryStorage();
    const r = await Replica.open({ replicaId: 'a', storage, clock: new ManualClock(1) });
    const ops = await r.batch([
      { type: 'set', key: 'x', value: 1 },
      { type: 'set', key: 'y', value: 2 },
      { type: 'delete', key: 'x' },
    ]);
    expect(ops.map((op) => [op.seq, op.type, op.key])).toEqual([
      [1, 'set', 'x'],
      [2, 'set', 'y'],
      [3, 'delete', 'x'],
    ]);
    expect(r.entries()).toEqual([['y', 2]]);
    expect(storage.batchCount).toBe(1);
    expect(await r.batch([])).toEqual([]);
    expect(storage.batchCount).toBe(1);
  });

  it('batch (function form, sync and async) commits what the function adds', async () => {
    const r = await open();
    const ops = await r.batch((b) => {
      b.set('p', 'v');
      b.delete('q');
    });
    expect(ops.map((op) => op.type)).toEqual(['set', 'delete']);
    await r.batch(async (b) => {
      await null;
      b.set('q', 2);
    });
    expect(r.entries()).toEqual([
      ['p', 'v'],
      ['q', 2],
    ]);
  });

  it('a throwing batch function writes nothing', async () => {
    const storage = new MemoryStorage();
    const r = await Replica.open({ replicaId: 'a', storage });
    await r.set('keep', 1);
    const boom = new Error('boom');
    await expect(
      r.batch((b) => {
        b.set('a', 1);
        b.set('b', 2);
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(
      r.batch(async (b) => {
        b.set('c', 1);
        await null;
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(r.entries()).toEqual([['keep', 1]]);
    expect(r.versionVector()).toEqual({ a: 1 });
    expect(storage.batchCount).toBe(1);
    expect((await r.set('next', 1)).seq).toBe(2);
  });

  it('keys and entries are sorted by code unit, with prefix filtering', async () => {
    const r = await open();
    for (const key of ['b', 'a/2', 'a/10', 'a', 'ab', 'A', 'a/1', 'é', 'z']) await r.set(key, key.length);
    await r.delete('z');
    expect(r.keys()).toEqual(['A', 'a', 'a/1', 'a/10', 'a/2', 'ab', 'b', 'é']);
    expect(r.keys({ prefix: 'a/' })).toEqual(['a/1', 'a/10', 'a/2']);
    expect(r.keys({ prefix: '' })).toEqual(r.keys());
    expect(r.keys({ prefix: 'zz' })).toEqual([]);
    expect(r.entries({ prefix: 'a/1' })).toEqual([
      ['a/1', 3],
      ['a/10', 4],
    ]);
    expect(r.entries().map(([k]) => k)).toEqual(r.keys());
  });

  it('keys() returns a copy the caller may change', async () => {
    const r = await open();
    await r.set('a', 1);
    const keys = r.keys();
    keys.push('zzz');
    expect(r.keys()).toEqual(['a']);
  });

  it('a random replica id comes from the injected Random', async () => {
    const a = await Replica.open({ random: seededRandom(7) });
    const b = await Replica.open({ random: seededRandom(7) });
    expect(a.replicaId).toMatch(/^[0-9a-f]{16}$/);
    expect(a.replicaId).toBe(b.replicaId);
  });

  it('reopening a storage recovers state, id and sequence numbers', async () => {
    const storage = new MemoryStorage();
    const r = await Replica.open({ replicaId: 'a', storage, clock: new ManualClock(100) });
    await r.set('x', 1);
    await r.batch([{ type: 'set', key: 'y', value: 2 }, { type: 'delete', key: 'x' }]);
    await r.close();
    const again = await Replica.open({ storage, clock: new ManualClock(0) });
    expect(again.replicaId).toBe('a');
    expect(again.entries()).toEqual([['y', 2]]);
    const op = await again.set('z', 3);
    expect(op.seq).toBe(4);
    expect(op.wall).toBe(100); // the HLC resumes after what was stored, even with the clock behind
    expect(op.logical).toBeGreaterThan(0);
    await again.close();
    await expect(Replica.open({ storage, replicaId: 'other' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('rejects bad options with INVALID_ARGUMENT', async () => {
    for (const options of [{ pendingOpsMax: 0 }, { groupOpsMax: 1.5 }, { historyOpsRetained: -1 }, { replicaId: '' }, { replicaId: 'x'.repeat(129) }]) {
      const error = await errorOf(() => Replica.open(options));
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });
});

describe('subscribe', () => {
  it('reports local and remote changes, with previous values, until unsubscribed', async () => {
    const a = await open('a');
    const b = await open('b', new ManualClock(2_000));
    const events: ChangeEvent[] = [];
    const stop = a.subscribe((event) => events.push(event));
    await a.set('k', 1);
    await a.set('k', 2);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ origin: 'local', changes: [{ key: 'k', value: 2, previous: 1 }] });
    expect(events[1]!.ops).toHaveLength(1);

    await b.set('k', 'remote');
    await b.delete('gone');
    const result = await a.applyRemote(b.opsSince(a.versionVector()));
    expect(result).toEqual({ applied: 2, duplicates: 0, deferred: 0, changed: 2 });
    expect(events).toHaveLength(3);
    expect(events[2]).toMatchObject({ origin: 'remote', changes: [{ key: 'k', value: 'remote', previous: 2 }, { key: 'gone', value: undefined, previous: undefined }] });
    expect(events[2]!.ops.map((op) => op.replica)).toEqual(['b', 'b']);

    // Duplicates change nothing and produce no event.
    expect(await a.applyRemote(b.opsSince({}))).toEqual({ applied: 0, duplicates: 2, deferred: 0, changed: 0 });
    expect(events).toHaveLength(3);

    stop();
    await a.set('k', 3);
    expect(events).toHaveLength(3);
  });

  it('a remote op that loses to the local winner is reported as applied but not changed', async () => {
    const a = await open('a', new ManualClock(5_000));
    const b = await open('b', new ManualClock(1_000));
    await b.set('k', 'old');
    await a.set('k', 'new');
    const events: ChangeEvent[] = [];
    a.subscribe((event) => events.push(event));
    expect(await a.applyRemote(b.opsSince({}))).toEqual({ applied: 1, duplicates: 0, deferred: 0, changed: 0 });
    expect(events[0]?.changes).toEqual([]);
    expect(a.get('k')).toBe('new');
  });

  it('a throwing listener fails neither the commit nor other listeners', async () => {
    const r = await open();
    const seen: string[] = [];
    const errors: unknown[] = [];
    const onError = (error: unknown) => errors.push(error);
    process.on('uncaughtException', onError);
    try {
      r.subscribe(() => {
        throw new Error('listener bug');
      });
      r.subscribe((event) => seen.push(event.changes[0]!.key));
      await r.set('k', 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen).toEqual(['k']);
      expect(r.get('k')).toBe(1);
      expect(errors).toHaveLength(1);
    } finally {
      process.off('uncaughtException', onError);
    }
  });

  it('an event batch reports one change per key with the value before the whole commit', async () => {
    const r = await open();
    await r.set('k', 'before');
    const events: ChangeEvent[] = [];
    r.subscribe((event) => events.push(event));
    await r.batch([
      { type: 'set', key: 'k', value: 1 },
      { type: 'set', key: 'k', value: 2 },
    ]);
    expect(events[0]?.changes).toMatchObject([{ key: 'k', value: 2, previous: 'before' }]);
    expect(events[0]?.ops).toHaveLength(2);
  });
});

describe('close', () => {
  it('waits for queued writes, then makes every call throw ReplicaClosedError', async () => {
    const storage = new MemoryStorage();
    const r = await Replica.open({ replicaId: 'a', storage });
    const pending = [r.set('a', 1), r.set('b', 2)];
    await r.close();
    await Promise.all(pending);
    expect(r.isClosed).toBe(true);
    const calls: (() => unknown)[] = [
      () => r.set('x', 1),
      () => r.delete('x'),
      () => r.batch([{ type: 'set', key: 'x', value: 1 }]),
      () => r.batch((b) => b.set('x', 1)),
      () => r.get('a'),
      () => r.has('a'),
      () => r.keys(),
      () => r.entries(),
      () => r.size,
      () => r.subscribe(() => {}),
      () => r.versionVector(),
      () => r.horizon(),
      () => r.opsSince({}),
      () => r.applyRemote([]),
      () => r.history('a'),
      () => r.stateAt({ versionVector: {} }),
      () => r.historyHorizon(),
      () => r.compact(),
      () => r.ready(),
    ];
    for (const call of calls) {
      const error = await errorOf(call);
      expect(error).toBeInstanceOf(ReplicaClosedError);
      expect(error).toMatchObject({ code: 'REPLICA_CLOSED' });
    }
    await r.close(); // idempotent
    const reopened = await Replica.open({ storage });
    expect(reopened.entries()).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('a second close waits for the first to finish', async () => {
    const r = await open();
    void r.set('a', 1);
    let firstDone = false;
    const first = r.close().then(() => {
      firstDone = true;
    });
    await r.close();
    expect(firstDone).toBe(true);
    await first;
  });
});

describe('ops handed out are immutable', () => {
  it('ops returned by set/batch/history/opsSince/events are frozen, so callers cannot corrupt the log', async () => {
    const r = await open();
    const seen: ChangeEvent[] = [];
    r.subscribe((event) => seen.push(event));
    const op = await r.set('k', 1);
    const [batched] = await r.batch([{ type: 'delete', key: 'j' }]);
    await r.applyRemote([{ replica: 'b', seq: 1, wall: 1, logical: 0, key: 'old', type: 'set', value: 'v' }]);
    const handedOut = [op, batched, ...r.history('k'), ...r.opsSince({}), ...seen.flatMap((event) => event.ops)];
    for (const item of handedOut) expect(Object.isFrozen(item)).toBe(true);
    expect(() => {
      (op as { value: unknown }).value = 'tampered';
    }).toThrow(TypeError);
    expect(r.get('k')).toBe(1);
  });
});

describe('batch writer', () => {
  it('is sealed once the batch function returns: a kept reference cannot add to the queued batch', async () => {
    const r = await open();
    let kept: { set(key: string, value: unknown): void } | undefined;
    const pending = r.batch((b) => {
      kept = b;
      b.set('inside', 1);
    });
    expect(() => kept?.set('outside', 2)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    let keptAsync: { set(key: string, value: unknown): void } | undefined;
    const asyncOps = await r.batch(async (b) => {
      keptAsync = b;
      await null;
      b.set('after an await', 1);
    });
    expect(asyncOps.map((op) => op.key)).toEqual(['after an await']);
    expect(() => keptAsync?.set('late', 3)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const ops = await pending;
    expect(ops.map((op) => op.key)).toEqual(['inside']);
    expect(r.has('late')).toBe(false);
  });
});

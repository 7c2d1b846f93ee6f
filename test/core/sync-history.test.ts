import { describe, expect, it } from 'vitest';
import { HistoryTruncatedError, ManualClock, MemoryStorage, type Op, Replica, type ReplicaAlert, SEQ_GAP_MAX, SeqGapError } from '../../src/core/index.js';
import { errorOf, observe } from './doubles.js';

async function open(id: string, startMs = 1_000, storage = new MemoryStorage()): Promise<{ r: Replica; clock: ManualClock; storage: MemoryStorage }> {
  const clock = new ManualClock(startMs);
  return { r: await Replica.open({ replicaId: id, clock, storage }), clock, storage };
}

function op(replica: string, seq: number, key: string, value: unknown, wall = seq * 10, logical = 0): Op {
  return value === undefined ? { replica, seq, wall, logical, key, type: 'delete' } : ({ replica, seq, wall, logical, key, type: 'set', value } as Op);
}

describe('applyRemote and version vectors', () => {
  it('two replicas converge after exchanging opsSince', async () => {
    const { r: a, clock: ca } = await open('a');
    const { r: b, clock: cb } = await open('b');
    await a.set('x', 'a1');
    cb.advance(5);
    await b.set('x', 'b1');
    await b.set('y', 'b2');
    ca.advance(10);
    await a.delete('y');
    await b.applyRemote(a.opsSince(b.versionVector()));
    await a.applyRemote(b.opsSince(a.versionVector()));
    expect(a.entries()).toEqual(b.entries());
    expect(a.entries()).toEqual([['x', 'b1']]);
    expect(a.versionVector()).toEqual({ a: 2, b: 2 });
    expect(b.versionVector()).toEqual(a.versionVector());
    expect(a.opsSince(b.versionVector())).toEqual([]);
  });

  it('ops of one replica arriving out of order, with gaps, keep the version vector contiguous', async () => {
    const { r } = await open('me');
    expect(await r.applyRemote([op('b', 3, 'k', 3), op('b', 5, 'k', 5)])).toMatchObject({ applied: 2 });
    expect(r.versionVector()).toEqual({});
    expect(r.get('k')).toBe(5); // merge does not wait for gaps
    await r.applyRemote([op('b', 1, 'k', 1)]);
    expect(r.versionVector()).toEqual({ b: 1 });
    // What the peer is offered back: everything held above its vector, the holes skipped.
    expect(r.opsSince({}).map((o) => o.seq)).toEqual([1, 3, 5]);
    expect(r.opsSince({ b: 1 }).map((o) => o.seq)).toEqual([3, 5]);
    await r.applyRemote([op('b', 2, 'k', 2)]);
    expect(r.versionVector()).toEqual({ b: 3 });
    await r.applyRemote([op('b', 4, 'k', 4), op('b', 4, 'k', 4)]);
    expect(r.versionVector()).toEqual({ b: 5 });
    expect(r.get('k')).toBe(5);
  });

  it('defers ops too far past a gap and counts them', async () => {
    const { r } = await open('me');
    const alerts: ReplicaAlert[] = [];
    r.subscribeAlerts((alert) => alerts.push(alert));
    const result = await r.applyRemote([op('b', 1, 'k', 1), op('b', SEQ_GAP_MAX + 2, 'far', 1, 20)]);
    expect(result).toEqual({ applied: 1, duplicates: 0, deferred: 1, changed: 1 });
    // Reported as a typed error: more than the writer could have sent in order.
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ type: 'seq-gap', error: { code: 'SEQ_GAP', details: { replica: 'b', seq: SEQ_GAP_MAX + 2, heldSeq: 0, deferred: 1 } } });
    expect((alerts[0] as { error: unknown }).error).toBeInstanceOf(SeqGapError);
    expect(r.has('far')).toBe(false);
    expect(r.versionVector()).toEqual({ b: 1 });
  });

  it('equal timestamps from different replicas are ordered by replica id', async () => {
    const { r } = await open('me');
    await r.applyRemote([op('z', 1, 'k', 'z', 50), op('b', 1, 'k', 'b', 50)]);
    expect(r.get('k')).toBe('z');
    const { r: s } = await open('me2');
    await s.applyRemote([op('b', 1, 'k', 'b', 50), op('z', 1, 'k', 'z', 50)]);
    expect(s.get('k')).toBe('z');
  });

  it('merge converges even when one replica (buggy or hostile) reuses a timestamp', async () => {
    // Two different ops of replica b with the same (wall, logical): the order must still be total.
    const first = op('b', 1, 'k', 'first', 50);
    const second = op('b', 2, 'k', 'second', 50);
    const { r: x } = await open('x');
    const { r: y } = await open('y');
    await x.applyRemote([first, second]);
    await y.applyRemote([second]);
    await y.applyRemote([first]);
    expect(x.get('k')).toBe(y.get('k'));
    expect(x.history('k')).toEqual(y.history('k'));
  });

  it('an op written after observing a remote op orders after it, even when the local clock is far behind', async () => {
    // Four minutes apart: inside the drift bound (5 minutes by default; test/core/lying-clocks.test.ts goes beyond).
    const { r: ahead } = await open('ahead', 240_010);
    const { r: behind } = await open('behind', 10);
    const remote = await ahead.set('k', 'remote');
    await behind.applyRemote([remote]);
    const local = await behind.set('k', 'local');
    expect(local.wall > remote.wall || (local.wall === remote.wall && local.logical > remote.logical)).toBe(true);
    await ahead.applyRemote([local]);
    expect(ahead.get('k')).toBe('local');
    expect(behind.get('k')).toBe('local');
  });

  it('our own ops coming back from a peer (a restored stale backup) move the replica to a fresh id: no seq is reused', async () => {
    const { r: original } = await open('a');
    const { r: peer } = await open('p');
    await original.set('x', 1);
    await original.set('x', 2);
    await peer.applyRemote(original.opsSince({}));
    const { r: restored } = await open('a'); // same id, empty storage: a stale backup
    await expect(restored.applyRemote(peer.opsSince(restored.versionVector()))).rejects.toMatchObject({ code: 'FORGED_OWN_OP' });
    expect(restored.replicaId).not.toBe('a');
    // Under its new id, the old ops are another replica's: accepted.
    expect(await restored.applyRemote(peer.opsSince(restored.versionVector()))).toMatchObject({ applied: 2 });
    const next = await restored.set('x', 3);
    expect([next.replica, next.seq]).toEqual([restored.replicaId, 1]);
    expect(await peer.applyRemote([next])).toMatchObject({ applied: 1 });
    expect(peer.get('x')).toBe(3);
  });
});

describe('history and stateAt', () => {
  async function scenario() {
    const { r: a, clock } = await open('a', 100);
    const { r: b } = await open('b', 100);
    const ops: Op[] = [];
    ops.push(await a.set('k', 1)); // 100.0
    ops.push(await a.set('j', 'x')); // 100.1
    clock.advance(10);
    ops.push(await a.set('k', 2)); // 110.0
    const remote = await b.set('k', 'b'); // 100.0 from b: loses to 110.0
    await a.applyRemote([remote]);
    clock.advance(10);
    ops.push(await a.delete('j')); // 120.0
    return { a, ops, remote };
  }

  it('history lists every op on a key in merge order', async () => {
    const { a, ops, remote } = await scenario();
    expect(a.history('k')).toEqual([ops[0], remote, ops[2]]);
    expect(a.history('j').map((o) => o.type)).toEqual(['set', 'delete']);
    expect(a.history('none')).toEqual([]);
  });

  it('stateAt a timestamp folds the ops at or before it', async () => {
    const { a } = await scenario();
    expect([...a.stateAt({ timestamp: { wall: 99, logical: 0 } })]).toEqual([]);
    expect([...a.stateAt({ timestamp: { wall: 100, logical: 0 } })]).toEqual([['k', 'b']]); // a's and b's 100.0: b wins the tie
    expect([...a.stateAt({ timestamp: { wall: 100, logical: 1 } })]).toEqual([
      ['j', 'x'],
      ['k', 'b'],
    ]);
    expect([...a.stateAt({ timestamp: { wall: 110, logical: 0 } })]).toEqual([
      ['j', 'x'],
      ['k', 2],
    ]);
    expect([...a.stateAt({ timestamp: { wall: 1e12, logical: 0 } })]).toEqual(a.entries());
  });

  it('stateAt a version vector folds the ops it covers', async () => {
    const { a } = await scenario();
    expect([...a.stateAt({ versionVector: {} })]).toEqual([]);
    expect([...a.stateAt({ versionVector: { a: 1 } })]).toEqual([['k', 1]]);
    expect([...a.stateAt({ versionVector: { a: 1, b: 1 } })]).toEqual([['k', 'b']]);
    expect([...a.stateAt({ versionVector: { a: 3 } })]).toEqual([
      ['j', 'x'],
      ['k', 2],
    ]);
    expect([...a.stateAt({ versionVector: a.versionVector() })]).toEqual(a.entries());
  });
});

describe('compaction', () => {
  it('keeps state, history horizon and recovery; points before it throw HistoryTruncatedError', async () => {
    const { r, clock, storage } = await open('a', 100);
    for (let i = 0; i < 10; i++) {
      await r.set(`k${i % 3}`, i);
      clock.advance(1);
    }
    await r.delete('k0');
    const before = r.entries();
    const result = await r.compact({ retainOps: 4 });
    expect(result).toEqual({ compactedOps: 7, retainedOps: 4, base: { a: 7 } });
    expect(r.entries()).toEqual(before);
    expect(r.horizon()).toEqual({ a: 7 });
    expect(r.versionVector()).toEqual({ a: 11 });
    expect(r.historyHorizon()).toEqual({ base: { a: 7 }, clock: { wall: 106, logical: 0 } });
    // The compacted part of a key's history is its winner.
    expect(r.history('k0').map((o) => o.seq)).toEqual([7, 10, 11]);
    expect([...r.stateAt({ versionVector: r.versionVector() })]).toEqual(r.entries());
    expect([...r.stateAt({ timestamp: { wall: 106, logical: 0 } })]).toEqual([
      ['k0', 6],
      ['k1', 4],
      ['k2', 5],
    ]);
    for (const point of [{ versionVector: { a: 3 } }, { versionVector: {} }, { timestamp: { wall: 105, logical: 0 } }]) {
      const error = await errorOf(() => r.stateAt(point));
      expect(error).toBeInstanceOf(HistoryTruncatedError);
      expect(error).toMatchObject({ code: 'HISTORY_TRUNCATED' });
    }
    expect(await r.compact({ retainOps: 100 })).toMatchObject({ compactedOps: 0 });
    await r.close();
    const again = await Replica.open({ storage, clock });
    expect(observe(again)).toBe(JSON.stringify({ entries: before, vv: { a: 11 }, horizon: { a: 7 }, size: before.length }));
    expect((await again.set('z', 1)).seq).toBe(12);
  });

  it('a peer behind the horizon converges, tombstones included', async () => {
    const { r: a, clock } = await open('a', 100);
    const { r: b } = await open('b', 100);
    await b.set('b-only', 1);
    await a.set('gone', 'soon');
    await a.set('stay', 1);
    clock.advance(5);
    await a.delete('gone');
    await a.set('stay', 2);
    await a.set('tail', 3);
    await a.compact({ retainOps: 1 });
    expect(a.horizon()).toEqual({ a: 4 });
    const fromA = a.opsSince(b.versionVector());
    await b.applyRemote(fromA, { horizon: a.horizon() });
    await a.applyRemote(b.opsSince(a.versionVector()));
    expect(b.entries()).toEqual(a.entries());
    expect(b.versionVector()).toEqual(a.versionVector());
    expect(b.horizon()).toEqual({ a: 4 });
    // A late, losing op for the compacted key still loses on both.
    const late = { replica: 'c', seq: 1, wall: 1, logical: 0, key: 'gone', type: 'set', value: 'late' } as const;
    await a.applyRemote([late]);
    await b.applyRemote([late]);
    expect(a.has('gone')).toBe(false);
    expect(b.entries()).toEqual(a.entries());
  });

  it('a peer far behind a horizon whose winners lie beyond the gap limit still converges', async () => {
    const { r } = await open('me');
    const far = SEQ_GAP_MAX + 10;
    // The sender compacted `far` ops of replica b; its summary holds only the key's winner.
    const winner = op('b', far, 'k', 'winner', 5_000);
    const result = await r.applyRemote([winner], { horizon: { b: far } });
    expect(result).toMatchObject({ applied: 1, deferred: 0 });
    expect(r.get('k')).toBe('winner');
    expect(r.versionVector()).toEqual({ b: far });
  });
});

describe('hostile horizons', () => {
  it('a summary op at the highest seq under a huge horizon is merged without allocating up to it', async () => {
    const { r } = await open('me');
    const top = 2 ** 32 - 2;
    const started = process.hrtime.bigint();
    await r.applyRemote([op('b', top, 'k', 'v', 5_000)], { horizon: { b: top } });
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2_000);
    expect(r.get('k')).toBe('v');
    expect(r.versionVector()).toEqual({ b: top });
    expect(r.history('k').map((o) => o.seq)).toEqual([top]);
  });
});

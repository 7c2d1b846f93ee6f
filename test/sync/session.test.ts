import { afterEach, describe, expect, it } from 'vitest';
import { Replica } from '../../src/core/replica.js';
import { decodeMessage, encodeMessage } from '../../src/sync/messages.js';
import { MemoryRoom } from '../../src/sync/memory-transport.js';
import { SyncSession, type SyncError } from '../../src/sync/session.js';
import type { Transport, TransportListener } from '../../src/sync/transport.js';
import { makeNodes, type Node, settle, stateOf } from './helpers.js';

let running: Node[] = [];
afterEach(async () => {
  for (const node of running) await node.session.stop();
  running = [];
});
const start = (nodes: Node[]): Node[] => {
  for (const node of nodes) node.session.start();
  running.push(...nodes);
  return nodes;
};

describe('SyncSession', () => {
  it('converges two replicas that wrote offline, then pushes new commits', async () => {
    const { nodes } = await makeNodes(['a', 'b']);
    const [a, b] = nodes as [Node, Node];
    await a.replica.set('x', 1);
    await b.replica.set('x', 2);
    await b.replica.set('y', 'b');
    start(nodes);
    await settle();
    expect(stateOf(a.replica)).toBe(stateOf(b.replica));
    expect(a.replica.versionVector()).toEqual({ a: 1, b: 2 });
    await a.replica.delete('y');
    await settle();
    expect(b.replica.has('y')).toBe(false);
    expect(a.session.status().peersSeen).toEqual(['b']);
    expect(b.session.status().opsReceived).toBeGreaterThanOrEqual(2);
    expect(a.session.status().connected).toBe(true);
  });

  it('sends large backlogs in batches bounded by ops and bytes', async () => {
    const { nodes } = await makeNodes(['a', 'b'], { batchOpsMax: 10, batchBytesMax: 600 });
    const [a, b] = nodes as [Node, Node];
    await a.replica.batch(Array.from({ length: 95 }, (_, i) => ({ type: 'set' as const, key: `k${i}`, value: 'v'.repeat(20) })));
    const sizes: number[] = [];
    const tap = b.transport as unknown as { deliver(bytes: Uint8Array): void };
    const deliver = tap.deliver.bind(tap);
    tap.deliver = (bytes) => {
      const message = decodeMessage(bytes);
      if (message.type === 'ops') {
        sizes.push(message.ops.length);
        expect(bytes.length).toBeLessThan(600 + 200);
      }
      deliver(bytes);
    };
    start(nodes);
    await settle();
    expect(b.replica.size).toBe(95);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(sizes.length).toBeGreaterThanOrEqual(10);
  });

  it('brings a peer behind the compaction horizon up to date with a multi-part snapshot', async () => {
    const { nodes } = await makeNodes(['a', 'b', 'c'], { batchOpsMax: 7 });
    const [a, b, c] = nodes as [Node, Node, Node];
    for (let i = 0; i < 60; i++) await a.replica.set(`k${i % 25}`, i);
    for (let i = 0; i < 10; i++) await a.replica.delete(`k${i}`);
    await a.replica.compact({ retainOps: 5 });
    expect(a.replica.horizon()).toEqual({ a: 65 });
    await c.replica.set('k3', 'c wrote this offline');
    start([a, b]);
    await settle();
    expect(stateOf(b.replica)).toBe(stateOf(a.replica));
    expect(b.replica.versionVector()).toEqual(a.replica.versionVector());
    start([c]);
    await settle();
    expect(stateOf(c.replica)).toBe(stateOf(a.replica));
    expect(c.replica.versionVector()).toEqual({ a: 70, c: 1 });
    expect(a.replica.versionVector()).toEqual({ a: 70, c: 1 });
  });

  it('never mixes the parts of two snapshot transfers that share an id (a sender restarted): soak seeds 10233, 10285', async () => {
    const { nodes } = await makeNodes(['b']);
    const [b] = start(nodes) as [Node];
    const op = (seq: number, key: string, value: string) => ({ replica: 'a', seq, wall: 100 + seq, logical: 0, key, type: 'set' as const, value });
    // Transfer 0 of a's first incarnation (horizon a:2), then transfer 0 of its next one (horizon a:4): same id, same part count.
    const first = (part: number) => encodeMessage({ type: 'snapshot', from: 'a', to: 'b', transferId: 0, part, parts: 2, horizon: { a: 2 }, ops: [part === 0 ? op(1, 'x', 'A1') : op(2, 'k', 'A2')] });
    const second = (part: number) => encodeMessage({ type: 'snapshot', from: 'a', to: 'b', transferId: 0, part, parts: 2, horizon: { a: 4 }, ops: [part === 0 ? op(3, 'x', 'B3') : op(4, 'k', 'B4')] });
    const room = b.transport as unknown as { deliver(bytes: Uint8Array): void };
    room.deliver(first(0));
    room.deliver(second(1));
    await settle();
    // Part 0 of one summary and part 1 of another are not a summary: nothing is adopted yet.
    expect(b.replica.versionVector()).toEqual({});
    expect(b.replica.size).toBe(0);
    room.deliver(second(0));
    await settle();
    expect(b.replica.horizon()).toEqual({ a: 4 });
    expect(b.replica.versionVector()).toEqual({ a: 4 });
    expect(b.replica.entries()).toEqual([
      ['k', 'B4'],
      ['x', 'B3'],
    ]);
  });

  it('counts and reports malformed frames without throwing or changing state', async () => {
    const errors: SyncError[] = [];
    const { nodes } = await makeNodes(['a', 'b'], { onError: (e) => errors.push(e) });
    const [a, b] = nodes as [Node, Node];
    await a.replica.set('x', 1);
    start(nodes);
    await settle();
    const before = stateOf(b.replica);
    const room = b.transport as unknown as { deliver(bytes: Uint8Array): void };
    room.deliver(Uint8Array.from([1, 2, 123, 34]));
    room.deliver(Uint8Array.from([7, 7, 7]));
    const forged = new TextEncoder().encode(JSON.stringify({ f: 'a', o: { v: 1, r: ['a'], o: [[0, 2, 5, 0, 'x', 'ok'], [0, 3, 5, 0, '']] } }));
    room.deliver(Uint8Array.from([1, 2, ...forged]));
    await settle();
    expect(b.session.status().framesMalformed).toBe(3);
    expect(b.session.status().lastError?.code).toBe('DECODE_FAILED');
    expect(errors).toHaveLength(3);
    expect(stateOf(b.replica)).toBe(before);
    expect(b.replica.versionVector()).toEqual({ a: 1 });
  });

  it('detects a replica id reused for different ops (restored stale backup): the writer moves to a fresh id and its writes still reach the room', async () => {
    const room = new MemoryRoom();
    const { nodes, clock } = await makeNodes(['x', 'b'], {}, room);
    const [x, b] = nodes as [Node, Node];
    await x.replica.set('k', 'original');
    start([x, b]);
    await settle();
    await x.session.stop();
    await x.transport.close();
    running = running.filter((n) => n !== x);
    // The device is restored from a backup taken before its first write, and writes before syncing (10 ms later:
    // hello tips compare timestamps, so a rewrite stamped exactly like the original would go unseen).
    clock.advance(10);
    const restored = await Replica.open({ replicaId: 'x', clock });
    await restored.set('k', 'rewritten');
    await restored.set('other', 1);
    const errors: SyncError[] = [];
    const session = new SyncSession(restored, room.join(), { onError: (e) => errors.push(e) });
    session.start();
    await settle();
    await session.stop();
    expect(session.status().identityRotations).toBe(1);
    expect(restored.replicaId).not.toBe('x');
    expect(session.status().opIdConflicts).toBeGreaterThan(0);
    expect(errors[0]?.code).toBe('OP_ID_CONFLICT');
    expect(errors[0]?.message).toContain('x:1');
    // Its acknowledged writes were written again under the new id: the room has them, and both sides agree.
    expect(b.replica.get('k')).toBe('rewritten');
    expect(b.replica.get('other')).toBe(1);
    expect(b.replica.entries()).toEqual(restored.entries());
  });

  it('lets a device re-created under its old id catch up before writing: its own ops come back, it moves to a fresh id and never reuses a seq', async () => {
    const room = new MemoryRoom();
    const { nodes, clock } = await makeNodes(['x', 'b'], {}, room);
    const [x, b] = nodes as [Node, Node];
    await x.replica.set('k', 1);
    await x.replica.set('k', 2);
    start([x, b]);
    await settle();
    await x.session.stop();
    await x.transport.close();
    running = running.filter((n) => n !== x);
    const recreated = await Replica.open({ replicaId: 'x', clock });
    const session = new SyncSession(recreated, room.join());
    session.start();
    await settle();
    // Its own old ops came back: it moved to a fresh id and took them in as another replica's.
    expect(recreated.replicaId).not.toBe('x');
    expect(recreated.get('k')).toBe(2);
    const op = await recreated.set('k', 3);
    await settle();
    await session.stop();
    expect([op.replica, op.seq]).toEqual([recreated.replicaId, 1]);
    expect(b.replica.get('k')).toBe(3);
    expect(session.status().identityRotations).toBe(1);
    expect(b.session.status().opIdConflicts).toBe(0);
  });

  it('repairs lost pushes with the anti-entropy tick of the injected scheduler', async () => {
    const room = new MemoryRoom();
    const { nodes, scheduler } = await makeNodes(['a', 'b'], { antiEntropyIntervalMs: 1_000 }, room);
    const [a, b] = nodes as [Node, Node];
    start(nodes);
    await settle();
    const tap = b.transport as unknown as { deliver(bytes: Uint8Array): void };
    const deliver = tap.deliver.bind(tap);
    let dropping = true;
    tap.deliver = (bytes) => {
      if (!dropping) deliver(bytes);
    };
    await a.replica.set('lost', 1);
    await a.replica.set('lost2', 2);
    await settle();
    expect(b.replica.has('lost')).toBe(false);
    dropping = false;
    await settle();
    expect(b.replica.has('lost')).toBe(false);
    scheduler.advance(1_000);
    await settle();
    expect(b.replica.get('lost')).toBe(1);
    expect(b.replica.get('lost2')).toBe(2);
    expect(stateOf(a.replica)).toBe(stateOf(b.replica));
  });

  it('fills a hole left by one dropped batch as soon as the next batch shows it', async () => {
    const room = new MemoryRoom();
    const { nodes, scheduler } = await makeNodes(['a', 'b'], { antiEntropyIntervalMs: 0, helloBackoffMs: 100 }, room);
    const [a, b] = nodes as [Node, Node];
    start(nodes);
    await settle();
    scheduler.advance(100);
    const tap = b.transport as unknown as { deliver(bytes: Uint8Array): void };
    const deliver = tap.deliver.bind(tap);
    let dropped = 0;
    tap.deliver = (bytes) => {
      if (dropped === 0 && decodeMessage(bytes).type === 'ops') {
        dropped += 1;
        return;
      }
      deliver(bytes);
    };
    await a.replica.set('one', 1);
    await a.replica.set('two', 2);
    await settle();
    expect(dropped).toBe(1);
    expect(b.replica.get('one')).toBe(1);
    expect(b.replica.versionVector()).toEqual({ a: 2 });
  });

  it('does not answer a repeated hello with the same ops until resendAfterMs has passed', async () => {
    const room = new MemoryRoom();
    const { nodes, scheduler } = await makeNodes(['a'], { antiEntropyIntervalMs: 0, resendAfterMs: 500 }, room);
    const [a] = nodes as [Node];
    await a.replica.batch(Array.from({ length: 20 }, (_, i) => ({ type: 'set' as const, key: `k${i}`, value: i })));
    const probe = room.join();
    const opsToB: number[] = [];
    probe.listen({
      frame: (bytes) => {
        const message = decodeMessage(bytes);
        if (message.type === 'ops' && message.to === 'b') opsToB.push(message.ops.length);
      },
      up() {},
      down() {},
    });
    start(nodes);
    await settle();
    const hello = encodeMessage({ type: 'hello', from: 'b', to: 'a', versionVector: {}, horizon: {}, tips: {}, replyWanted: false });
    probe.send(hello);
    await settle();
    expect(opsToB.reduce((x, y) => x + y, 0)).toBe(20);
    probe.send(hello); // asked again before the answer could have landed: nothing new to send
    await settle();
    expect(opsToB.reduce((x, y) => x + y, 0)).toBe(20);
    await a.replica.set('late', 1); // a new op is pushed to everyone, and counts as on its way: not answered too
    probe.send(hello);
    await settle();
    expect(opsToB.reduce((x, y) => x + y, 0)).toBe(20);
    scheduler.advance(500);
    probe.send(hello); // the window passed: everything b still lacks goes again, the push included
    await settle();
    expect(opsToB.reduce((x, y) => x + y, 0)).toBe(41);
  });

  it('leaves recent pushes out of answers, but answers a hole below ops the peer holds, and resends a lost tail', async () => {
    const room = new MemoryRoom();
    const { nodes, scheduler } = await makeNodes(['a'], { antiEntropyIntervalMs: 0, resendAfterMs: 500 }, room);
    const [a] = nodes as [Node];
    const probe = room.join();
    const answered: number[] = [];
    probe.listen({
      frame: (bytes) => {
        const message = decodeMessage(bytes);
        if (message.type === 'ops' && message.to === 'b') answered.push(...message.ops.map((op) => op.seq));
      },
      up() {},
      down() {},
    });
    start(nodes);
    await settle();
    const hello = (seq: number, gx?: [number, number][]) =>
      encodeMessage({ type: 'hello', from: 'b', to: 'a', versionVector: seq === 0 ? {} : { a: seq }, horizon: {}, tips: {}, ...(gx === undefined ? {} : { heldPastGaps: { a: gx } }), replyWanted: false });
    probe.send(hello(0)); // b joins the room: pushes from now on reach it
    await settle();
    await a.replica.batch(Array.from({ length: 10 }, (_, i) => ({ type: 'set' as const, key: `k${i}`, value: i })));
    probe.send(hello(3)); // took in 1..3 of the push: the rest is on its way
    await settle();
    expect(answered).toEqual([]);
    probe.send(hello(3, [[6, 10]])); // holds 6..10 past a hole: 4 and 5 were lost
    await settle();
    expect(answered).toEqual([4, 5]);
    answered.length = 0;
    scheduler.advance(500);
    probe.send(hello(3)); // still at 3 after the window (say it lost 4..10 for good): everything goes again
    await settle();
    expect(answered).toEqual([4, 5, 6, 7, 8, 9, 10]);
  });

  it('streams a catch-up without waiting for the tick: each applied answer asks for the next window, and nothing is sent twice', async () => {
    const { nodes, scheduler } = await makeNodes(['a', 'b'], { antiEntropyIntervalMs: 0, batchOpsMax: 5, responseFramesMax: 2, helloBackoffMs: 10 });
    const [a, b] = nodes as [Node, Node];
    await a.replica.batch(Array.from({ length: 200 }, (_, i) => ({ type: 'set' as const, key: `k${i}`, value: i })));
    start(nodes);
    // No tick: only the asks after each applied answer (paced by the 10 ms hello backoff's timer) move it on.
    for (let i = 0; i < 40 && b.replica.size < 200; i++) {
      await settle();
      scheduler.advance(10);
    }
    await settle();
    expect(b.replica.size).toBe(200);
    expect(a.session.status().opsSent).toBe(200);
  });

  it('keeps at most responseFramesMax frames in flight to a peer that keeps asking, and refills the window as its vector moves', async () => {
    const room = new MemoryRoom();
    const { nodes } = await makeNodes(['a'], { antiEntropyIntervalMs: 0, batchOpsMax: 5, responseFramesMax: 3 }, room);
    const [a] = nodes as [Node];
    await a.replica.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'set' as const, key: `k${i}`, value: i })));
    const probe = room.join();
    const seqs: number[] = [];
    probe.listen({
      frame: (bytes) => {
        const message = decodeMessage(bytes);
        if (message.type === 'ops' && message.to === 'b') seqs.push(...message.ops.map((op) => op.seq));
      },
      up() {},
      down() {},
    });
    start(nodes);
    await settle();
    const hello = (seq: number) => encodeMessage({ type: 'hello', from: 'b', to: 'a', versionVector: seq === 0 ? {} : { a: seq }, horizon: {}, tips: {}, replyWanted: false });
    for (let i = 0; i < 4; i++) probe.send(hello(0));
    await settle();
    expect(seqs).toEqual(Array.from({ length: 15 }, (_, i) => i + 1)); // 3 frames, however often it asks
    probe.send(hello(10)); // two frames landed: two more go out
    await settle();
    expect(seqs.length).toBe(25);
    probe.send(hello(25));
    await settle();
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1)); // in order, no op twice
  });

  it('leaves out ops the peer holds past a hole, and sends the ops that advance its vector first', async () => {
    const room = new MemoryRoom();
    const { nodes } = await makeNodes(['a'], { antiEntropyIntervalMs: 0, batchOpsMax: 1, responseFramesMax: 2 }, room);
    const [a] = nodes as [Node];
    // a holds z:1..3 and z:10..12 (z:4..9 never reached it).
    const zop = (seq: number) => ({ replica: 'z', seq, wall: seq, logical: 0, key: `z${seq}`, type: 'set' as const, value: seq });
    // It also holds y:5..6 past a hole nobody can fill, listed before z in its log.
    await a.replica.applyRemote([5, 6].map((seq) => ({ ...zop(seq), replica: 'y', key: `y${seq}` })));
    await a.replica.applyRemote([1, 2, 3, 10, 11, 12].map(zop));
    const probe = room.join();
    const seqsToB: number[][] = [];
    const seqsToC: number[][] = [];
    probe.listen({
      frame: (bytes) => {
        const message = decodeMessage(bytes);
        if (message.type === 'ops' && message.to === 'b') seqsToB.push(message.ops.map((op) => op.seq));
        if (message.type === 'ops' && message.to === 'c') seqsToC.push(message.ops.map((op) => op.seq * (op.replica === 'y' ? -1 : 1)));
      },
      up() {},
      down() {},
    });
    start(nodes);
    await settle();
    // b holds z:1 and, past its own hole, z:10..12: only z:2 and z:3 are news to it, and they must come first.
    probe.send(encodeMessage({ type: 'hello', from: 'b', to: 'a', versionVector: { z: 1 }, horizon: {}, tips: {}, heldPastGaps: { y: [[5, 6]], z: [[10, 12]] }, replyWanted: false }));
    await settle();
    expect(seqsToB.flat()).toEqual([2, 3]);
    // c holds z:1 only and says nothing about holes: with a two-frame budget the run z:2, z:3 goes before y:5..6 and z:10..12.
    probe.send(encodeMessage({ type: 'hello', from: 'c', to: 'a', versionVector: { z: 1 }, horizon: {}, tips: {}, replyWanted: false }));
    await settle();
    expect(seqsToC).toEqual([[2], [3]]);
  });

  it('ignores frames addressed to other replicas and its own echoed frames', async () => {
    const { nodes } = await makeNodes(['a', 'b']);
    const [a, b] = nodes as [Node, Node];
    start(nodes);
    await settle();
    const tap = b.transport as unknown as { deliver(bytes: Uint8Array): void };
    const op = { replica: 'z', seq: 1, wall: 5, logical: 0, key: 'k', type: 'set' as const, value: 1 };
    tap.deliver(encodeMessage({ type: 'ops', from: 'a', to: 'someone-else', ops: [op] }));
    tap.deliver(encodeMessage({ type: 'ops', from: 'b', ops: [op] }));
    await settle();
    expect(b.replica.has('k')).toBe(false);
    tap.deliver(encodeMessage({ type: 'ops', from: 'a', to: 'b', ops: [op] }));
    await settle();
    expect(b.replica.get('k')).toBe(1);
    expect(a.replica.get('k')).toBeUndefined();
  });

  it('never throws into the transport when the replica is closed under it, and stop() is quiet', async () => {
    const { nodes } = await makeNodes(['a', 'b']);
    const [a, b] = nodes as [Node, Node];
    start(nodes);
    await settle();
    await b.replica.close();
    await a.replica.set('x', 1);
    await settle();
    expect(b.session.status().applyFailures).toBe(0);
    await b.session.stop();
    expect(b.session.status().connected).toBe(false);
  });

  it('rejects bad options with a typed error', async () => {
    const replica = await Replica.open({ replicaId: 'a' });
    const transport: Transport = { send() {}, listen(_l: TransportListener) {}, connected: false, close: async () => {} };
    expect(() => new SyncSession(replica, transport, { batchOpsMax: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new SyncSession(replica, transport, { antiEntropyIntervalMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('converges five replicas with concurrent writers over one room', async () => {
    const { nodes } = await makeNodes(['a', 'b', 'c', 'd', 'e']);
    start(nodes);
    await settle();
    await Promise.all(nodes.flatMap((node, i) => Array.from({ length: 20 }, (_, j) => node.replica.set(`k${(i * 7 + j) % 13}`, `${i}-${j}`))));
    await settle();
    const first = stateOf((nodes[0] as Node).replica);
    for (const node of nodes) {
      expect(stateOf(node.replica)).toBe(first);
      expect(node.replica.versionVector()).toEqual({ a: 20, b: 20, c: 20, d: 20, e: 20 });
    }
  });
});

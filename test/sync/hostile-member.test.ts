/**
 * A hostile member of the room (it holds the key, so it can send any well-formed frame) against honest sessions
 * (issue 20): it must not be able to cut a device off, silently or at all, by writing under the device's id,
 * claiming its ops in a forged horizon or forging its next seq while it is offline; nor stall sync with clocks far
 * ahead or a flood of made-up replica ids; nor fill a receiver's memory with transfers that never finish.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Op } from '../../src/core/op.js';
import { SEQ_MAX } from '../../src/core/op.js';
import { type Replica, type ReplicaAlert, SEQ_GAP_MAX } from '../../src/core/replica.js';
import { decodeMessage, encodeMessage, type HelloMessage, type SyncMessage } from '../../src/sync/messages.js';
import type { MemoryTransport } from '../../src/sync/memory-transport.js';
import { syncMetricsText } from '../../src/sync/metrics.js';
import type { SyncError } from '../../src/sync/session.js';
import { makeNodes, type Node, settle } from './helpers.js';

let running: Node[] = [];
afterEach(async () => {
  for (const node of running) await node.session.stop();
  running = [];
});

function start(nodes: Node[]): void {
  for (const node of nodes) node.session.start();
  running.push(...nodes);
}

/** A raw member of the room that records every frame it sees. */
function attacker(transport: MemoryTransport): { send(message: SyncMessage): void; seen: SyncMessage[] } {
  const seen: SyncMessage[] = [];
  transport.listen({ frame: (bytes) => seen.push(decodeMessage(bytes)), up: () => undefined, down: () => undefined });
  return { send: (message) => transport.send(encodeMessage(message)), seen };
}

function alertsOf(replica: Replica): ReplicaAlert[] {
  const alerts: ReplicaAlert[] = [];
  replica.subscribeAlerts((alert) => alerts.push(alert));
  return alerts;
}

/** Writes `count` values on the victim and returns their keys. */
async function writeMany(replica: Replica, count: number, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    keys.push(`${prefix}${i}`);
    await replica.set(`${prefix}${i}`, i);
  }
  return keys;
}

const delivered = (replica: Replica, keys: readonly string[]) => keys.filter((key) => replica.has(key)).length;

describe('a room member forging a victim id', () => {
  it('(a) one op under the victim id at seq current + SEQ_GAP_MAX: the victim moves to a fresh id and 20 of 20 writes reach peers', async () => {
    const { nodes, room, clock } = await makeNodes(['victim', 'peer']);
    const [victim, peer] = nodes as [Node, Node];
    const alerts = alertsOf(victim.replica);
    const m = attacker(room.join());
    start(nodes);
    await writeMany(victim.replica, 3, 'before');
    await settle();
    m.send({ type: 'ops', from: 'mallory', ops: [{ replica: 'victim', seq: 3 + SEQ_GAP_MAX, wall: clock.now(), logical: 0, key: 'forged', type: 'set', value: 'x' }] });
    await settle();
    const keys = await writeMany(victim.replica, 20, 'after');
    await settle();
    expect(delivered(peer.replica, keys)).toBe(20);
    expect(victim.replica.replicaId).not.toBe('victim');
    expect(alerts.filter((alert) => alert.type === 'identity-rotated')).toHaveLength(1);
    expect(victim.session.status()).toMatchObject({ forgedOwnOps: 1, identityRotations: 1 });
    expect(victim.session.status().lastError?.code).toBe('FORGED_OWN_OP');
  });

  it('(b) a forged snapshot transfer claiming the victim id up to SEQ_MAX: the victim notices the claim, moves on, and 20 of 20 writes reach peers', async () => {
    const errors: SyncError[] = [];
    const { nodes, room, scheduler } = await makeNodes(['victim', 'peer'], { antiEntropyIntervalMs: 1_000, onError: (e) => errors.push(e) });
    const [victim, peer] = nodes as [Node, Node];
    const m = attacker(room.join());
    start(nodes);
    await writeMany(victim.replica, 5, 'before');
    await settle();
    // The summary copied from a real replica, under a horizon that claims every seq the victim could ever write.
    const summary = peer.replica.opsSince({});
    const horizon = { ...peer.replica.versionVector(), victim: SEQ_MAX };
    // Sent to the peer only: the victim can learn of it only from the peer's hellos.
    m.send({ type: 'snapshot', from: 'mallory', to: 'peer', transferId: 1, part: 0, parts: 1, horizon, ops: summary });
    await settle();
    expect(peer.replica.horizon()).toMatchObject({ victim: SEQ_MAX });
    const keys = await writeMany(victim.replica, 20, 'after');
    await settle();
    // The peer adopted the forged horizon (it cannot tell): it drops the victim's ops under it as compacted...
    // ...until the victim sees the peer's hello claim more of its ops than it wrote, and moves to a fresh id.
    scheduler.advance(1_000);
    await settle();
    scheduler.advance(1_000);
    await settle();
    expect(victim.replica.replicaId).not.toBe('victim');
    expect(errors.find((e) => e.code === 'FORGED_OWN_OP')?.message).toContain('claims to hold ops of this replica (victim) up to seq 4294967294');
    expect(delivered(peer.replica, keys)).toBe(20);
    expect(peer.replica.entries()).toEqual(victim.replica.entries());
  });

  it('(b) sent to the victim itself, the forged horizon is refused (FORGED_OWN_OP) and never covers its new id', async () => {
    const { nodes, room } = await makeNodes(['victim', 'peer']);
    const [victim, peer] = nodes as [Node, Node];
    const m = attacker(room.join());
    start(nodes);
    await writeMany(victim.replica, 5, 'before');
    await settle();
    m.send({ type: 'snapshot', from: 'mallory', to: 'victim', transferId: 1, part: 0, parts: 1, horizon: { victim: SEQ_MAX }, ops: peer.replica.opsSince({}) });
    await settle();
    expect(victim.replica.replicaId).not.toBe('victim');
    expect(victim.replica.horizon()[victim.replica.replicaId]).toBeUndefined();
    const keys = await writeMany(victim.replica, 20, 'after');
    await settle();
    expect(delivered(peer.replica, keys)).toBe(20);
  });

  it('(c) the victim next seq forged while it is offline: on reconnect it does not fence itself; 20 of 20 writes (and the offline ones) reach peers', async () => {
    const { nodes, room, clock } = await makeNodes(['victim', 'peer']);
    const [victim, peer] = nodes as [Node, Node];
    const m = attacker(room.join());
    start(nodes);
    await writeMany(victim.replica, 3, 'before');
    await settle();
    victim.transport.setConnected(false);
    const offline = await writeMany(victim.replica, 5, 'offline');
    m.send({ type: 'ops', from: 'mallory', ops: [{ replica: 'victim', seq: 4, wall: clock.now(), logical: 9, key: 'forged', type: 'set', value: 'x' }] });
    await settle();
    expect(peer.replica.get('forged')).toBe('x');
    victim.transport.setConnected(true);
    await settle(40);
    const keys = await writeMany(victim.replica, 20, 'after');
    await settle(40);
    expect(delivered(peer.replica, [...offline, ...keys])).toBe(25);
    expect(victim.session.status().identityRotations).toBe(1);
    expect(victim.session.status().opIdConflicts).toBeLessThan(5);
  });
});

describe('clocks far ahead, through a session', () => {
  it('refuses ops stamped past the bound without holding back the rest; says so in its hellos; takes them once time catches up', async () => {
    const errors: SyncError[] = [];
    const { nodes, room, clock, scheduler } = await makeNodes(['honest', 'peer'], { onError: (e) => errors.push(e), antiEntropyIntervalMs: 1_000 });
    const [honest, peer] = nodes as [Node, Node];
    const m = attacker(room.join());
    start(nodes);
    await settle();
    const now = clock.now();
    const ahead: Op[] = [
      { replica: 'fast', seq: 1, wall: now, logical: 0, key: 'a', type: 'set', value: 1 },
      { replica: 'fast', seq: 2, wall: now + 600_000, logical: 0, key: 'b', type: 'set', value: 2 },
      { replica: 'other', seq: 1, wall: now, logical: 0, key: 'c', type: 'set', value: 3 },
    ];
    m.send({ type: 'ops', from: 'fast', ops: ahead });
    await settle();
    for (const node of [honest, peer]) {
      expect(node.replica.get('a')).toBe(1);
      expect(node.replica.get('c')).toBe(3);
      expect(node.replica.has('b')).toBe(false);
      expect(node.session.status().clockDriftRefusals).toBe(1);
    }
    expect(errors.find((e) => e.code === 'CLOCK_DRIFT')?.message).toContain('fast:2');
    expect(syncMetricsText(honest.session.status(), { replica: 'honest' })).toContain('tidelog_sync_ops_refused_total{replica="honest",reason="clock-drift"} 1\n');
    // The refused op is listed in the hello as "do not send" until it may pass.
    m.seen.length = 0;
    honest.session.syncNow();
    await settle();
    const hello = m.seen.find((message): message is HelloMessage => message.type === 'hello' && message.from === 'honest');
    expect(hello?.heldPastGaps?.fast).toEqual([[2, 2]]);
    // Real time catches up: the next round takes the op in (the attacker here answers hellos like an honest peer).
    clock.advance(300_000);
    scheduler.advance(300_000);
    await settle();
    const later = m.seen.filter((message): message is HelloMessage => message.type === 'hello' && message.from === 'honest').pop();
    expect(later?.heldPastGaps?.fast).toBeUndefined();
    m.send({ type: 'ops', from: 'fast', to: 'honest', ops: [ahead[1] as Op] });
    await settle();
    expect(honest.replica.get('b')).toBe(2);
  });
});

describe('made-up replica ids', () => {
  it('a flood of new ids is admitted at the budget rate; the rest is refused for now (typed), and the honest writes flow', async () => {
    const errors: SyncError[] = [];
    const { nodes, room, clock, scheduler } = await makeNodes(['a', 'b'], { onError: (e) => errors.push(e), replicaIdBudget: { perPeerBurst: 100, perPeerPerMinute: 60 } });
    const [a, b] = nodes as [Node, Node];
    const m = attacker(room.join());
    start(nodes);
    const flood: Op[] = Array.from({ length: 500 }, (_, i) => ({ replica: `fake-${i}`, seq: 1, wall: clock.now(), logical: 0, key: `f${i}`, type: 'set', value: i }));
    m.send({ type: 'ops', from: 'mallory', ops: flood });
    await settle();
    expect(Object.keys(a.replica.versionVector())).toHaveLength(100);
    expect(a.session.status().replicaIdRefusals).toBe(400);
    expect(errors.find((e) => e.code === 'REPLICA_ID_BUDGET')?.message).toContain('allowed 100');
    const keys = await writeMany(a.replica, 20, 'w');
    await settle();
    expect(delivered(b.replica, keys)).toBe(20);
    // A minute later, 60 more ids are admitted.
    scheduler.advance(60_000);
    m.send({ type: 'ops', from: 'mallory', ops: flood });
    await settle();
    expect(Object.keys(a.replica.versionVector()).filter((id) => id.startsWith('fake-'))).toHaveLength(160);
  });

  it('a hello over helloBytesMax goes as parts that each fit; the receiver joins them and answers the whole', async () => {
    const { nodes, room, clock } = await makeNodes(['a', 'b'], { helloBytesMax: 16 * 1024, replicaIdBudget: { perPeerBurst: 10_000, totalBurst: 10_000 } });
    const [a, b] = nodes as [Node, Node];
    // 3,000 replica ids a holds (a room with a long history), b holds none of them.
    await a.replica.applyRemote(Array.from({ length: 3_000 }, (_, i) => ({ replica: `device-${String(i).padStart(6, '0')}-${'x'.repeat(20)}`, seq: 1, wall: clock.now(), logical: 0, key: `k${i}`, type: 'set', value: i })));
    const sizes: number[] = [];
    const tap = room.join();
    tap.listen({ frame: (bytes) => (bytes[1] === 1 ? sizes.push(bytes.length) : undefined), up: () => undefined, down: () => undefined });
    start(nodes);
    await settle(60);
    expect(sizes.length).toBeGreaterThan(4);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16 * 1024);
    expect(b.replica.size).toBe(3_000);
    expect(b.replica.versionVector()).toEqual(a.replica.versionVector());
  });
});

describe('made-up senders of snapshot parts', () => {
  it('buffers at most transfersMax unfinished transfers in all, and a real transfer still completes', async () => {
    const { nodes, room, clock } = await makeNodes(['victim'], { transfersMax: 8 });
    const [victim] = nodes as [Node];
    const m = attacker(room.join());
    start(nodes);
    const ops: Op[] = Array.from({ length: 200 }, (_, i) => ({ replica: 'r', seq: i + 1, wall: clock.now(), logical: 0, key: `k${i}`, type: 'set', value: 'v'.repeat(100) }));
    for (let i = 0; i < 160; i++) m.send({ type: 'snapshot', from: `fake-${i}`, to: 'victim', transferId: 1, part: 0, parts: 4096, horizon: { r: 200 }, ops });
    await settle();
    expect(victim.session.status().transfersEvicted).toBe(152);
    // An honest two-part transfer afterwards is applied.
    m.send({ type: 'snapshot', from: 'honest', to: 'victim', transferId: 7, part: 0, parts: 2, horizon: { r: 200 }, ops: ops.slice(0, 100) });
    m.send({ type: 'snapshot', from: 'honest', to: 'victim', transferId: 7, part: 1, parts: 2, horizon: { r: 200 }, ops: ops.slice(100) });
    await settle();
    expect(victim.replica.horizon()).toEqual({ r: 200 });
    expect(victim.replica.size).toBe(200);
  });
});

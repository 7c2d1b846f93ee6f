/**
 * Lying peers through a real relay (issue 20): a member of the room that holds the key sends sealed, well-formed
 * sync frames built to hurt the honest devices: an op stamped in the year 2200, the victim's next seq forged while
 * it is offline, thousands of replica ids. The honest devices refuse or neutralise each, say so, and keep syncing:
 * later honest writes win and every honest write reaches every peer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { openSyncedReplicaNode } from '../../src/client/node.js';
import type { SyncedReplica } from '../../src/client/open-synced-replica.js';
import type { Op } from '../../src/core/op.js';
import { EnvelopeSealer } from '../../src/crypto/envelope.js';
import { generateRoomKey, type RoomKey } from '../../src/crypto/room-key.js';
import { RelayServer } from '../../src/relay/server.js';
import { encodeMessage, type SyncMessage } from '../../src/sync/messages.js';
import type { SyncSessionOptions } from '../../src/sync/session.js';
import { until } from '../relay/helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function room(session: SyncSessionOptions = {}): Promise<{ relay: RelayServer; key: RoomKey; open: () => Promise<SyncedReplica> }> {
  const relay = await RelayServer.start({ port: 0 });
  cleanup.push(() => relay.close());
  const key = generateRoomKey();
  const open = async () => {
    const peer = await openSyncedReplicaNode({ relayUrl: relay.url, key, transport: { reconnectDelayMsMin: 20, reconnectDelayMsMax: 200 }, session: { antiEntropyIntervalMs: 200, ...session } });
    cleanup.push(() => peer.close());
    return peer;
  };
  return { relay, key, open };
}

/** A member holding the room key, sending whatever sync messages it likes. */
async function insider(relay: RelayServer, key: RoomKey): Promise<(message: SyncMessage) => Promise<void>> {
  const socket = new WebSocket(`${relay.url}/rooms/${key.roomId}`);
  await new Promise((resolve) => socket.once('open', resolve));
  cleanup.push(async () => socket.terminate());
  const sealer = new EnvelopeSealer(key, 'mallory');
  return async (message) => {
    socket.send(await sealer.seal(encodeMessage(message)));
  };
}

async function writeMany(peer: SyncedReplica, count: number, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    keys.push(`${prefix}${i}`);
    await peer.replica.set(`${prefix}${i}`, i);
  }
  return keys;
}

const holdsAll = (peer: SyncedReplica, keys: readonly string[]) => keys.every((key) => peer.replica.has(key));

describe('lying peers through the relay', () => {
  it('an op stamped in 2200 is refused everywhere; later honest writes win', async () => {
    const { relay, key, open } = await room();
    const [a, b] = [await open(), await open()];
    const send = await insider(relay, key);
    await until(() => a.socket.connected && b.socket.connected);
    await send({ type: 'ops', from: 'mallory', ops: [{ replica: 'mallory', seq: 1, wall: 7_258_118_400_000, logical: 0, key: 'doc', type: 'set', value: 'x' }] });
    await until(() => a.session.status().clockDriftRefusals >= 1 && b.session.status().clockDriftRefusals >= 1, 10_000, 'refusals');
    await b.replica.set('doc', 'honest');
    await until(() => a.replica.get('doc') === 'honest', 30_000, 'the honest write');
    expect(b.replica.get('doc')).toBe('honest');
    expect(a.session.status().lastError?.code).toBe('CLOCK_DRIFT');
  });

  it("the victim's next seq forged while it is offline: it moves to a fresh id on reconnect, and every write reaches the peer", async () => {
    const { relay, key, open } = await room();
    const [victim, peer] = [await open(), await open()];
    const send = await insider(relay, key);
    await until(() => victim.socket.connected && peer.socket.connected);
    const before = await writeMany(victim, 3, 'before');
    await until(() => holdsAll(peer, before), 30_000, 'first sync');
    const victimId = victim.replica.replicaId;
    await victim.session.stop();
    const offline = await writeMany(victim, 5, 'offline');
    await send({ type: 'ops', from: 'mallory', ops: [{ replica: victimId, seq: 4, wall: Date.now(), logical: 7, key: 'forged', type: 'set', value: 'x' }] });
    await until(() => peer.replica.get('forged') === 'x', 30_000, 'the forged op at the peer');
    victim.session.start();
    const after = await writeMany(victim, 20, 'after');
    await until(() => holdsAll(peer, [...offline, ...after]), 30_000, 'every write at the peer');
    expect(victim.replica.replicaId).not.toBe(victimId);
    expect(victim.session.status().identityRotations).toBe(1);
  });

  it('5,000 replica ids: hellos are split to fit the 1 MiB frame limit, nobody reconnects in a loop, writes flow both ways', async () => {
    // A room with a long history (generous budget): 5,000 ids with 120-character names.
    const { relay, key, open } = await room({ replicaIdBudget: { perPeerBurst: 10_000, totalBurst: 10_000 }, antiEntropyIntervalMs: 1_000 });
    const [a, b] = [await open(), await open()];
    const send = await insider(relay, key);
    await until(() => a.socket.connected && b.socket.connected);
    const ops: Op[] = Array.from({ length: 5_000 }, (_, i) => ({ replica: `${String(i).padStart(8, '0')}-${'r'.repeat(111)}`, seq: 1, wall: Date.now(), logical: 0, key: `made-up-${i}`, type: 'set', value: i }));
    for (let i = 0; i < ops.length; i += 500) await send({ type: 'ops', from: 'mallory', ops: ops.slice(i, i + 500) });
    await until(() => a.replica.size >= 5_000 && b.replica.size >= 5_000, 60_000, 'the made-up ops');
    const connectsBefore = a.socket.stats().connects + b.socket.stats().connects;
    const fromA = await writeMany(a, 20, 'a');
    const fromB = await writeMany(b, 20, 'b');
    await until(() => holdsAll(b, fromA) && holdsAll(a, fromB), 60_000, 'writes both ways');
    // A few anti-entropy rounds with 5,000-entry hellos (more than 1 MiB whole), none of them over the limit.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(a.socket.stats().connects + b.socket.stats().connects).toBe(connectsBefore);
    expect(a.replica.versionVector()).toEqual(b.replica.versionVector());
  }, 150_000);

  it('2,000 made-up ids under the default budget: 1,024 are admitted at once, the rest refused for now, honest writes flow', async () => {
    const { relay, key, open } = await room();
    const [a, b] = [await open(), await open()];
    const send = await insider(relay, key);
    await until(() => a.socket.connected && b.socket.connected);
    const ops: Op[] = Array.from({ length: 2_000 }, (_, i) => ({ replica: `fake-${i}`, seq: 1, wall: Date.now(), logical: 0, key: `made-up-${i}`, type: 'set', value: i }));
    for (let i = 0; i < ops.length; i += 500) await send({ type: 'ops', from: 'mallory', ops: ops.slice(i, i + 500) });
    await until(() => a.session.status().replicaIdRefusals >= 976, 30_000, 'refusals');
    const fromA = await writeMany(a, 20, 'a');
    await until(() => holdsAll(b, fromA), 30_000, 'honest writes');
    expect(Object.keys(a.replica.versionVector()).filter((id) => id.startsWith('fake-')).length).toBeLessThanOrEqual(1_024);
  });
});

/**
 * Store-and-forward with real replicas: A writes while B has never been online and
 * then leaves; B comes online when nobody else is, and catches up from the relay's
 * stored ciphertext alone (across a relay restart).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSyncedReplicaNode } from '../../src/client/node.js';
import { generateRoomKey } from '../../src/crypto/room-key.js';
import { DiskFrameStore } from '../../src/relay/disk-frame-store.js';
import { RelayServer } from '../../src/relay/server.js';
import { until } from '../relay/helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('store-and-forward with replicas', () => {
  it('lets a device catch up after its only peer went offline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tidelog-saf-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    let relay = await RelayServer.start({ port: 0, store: new DiskFrameStore({ dir }) });
    const port = relay.port;
    const key = generateRoomKey();
    const options = { key, transport: { reconnectDelayMsMin: 20, reconnectDelayMsMax: 200 } };
    const a = await openSyncedReplicaNode({ relayUrl: relay.url, ...options });
    await until(() => a.socket.connected);
    await a.replica.batch(Array.from({ length: 300 }, (_, i) => ({ type: 'set' as const, key: `note-${i}`, value: `text ${i}` })));
    await a.replica.delete('note-7');
    await until(() => relay.metrics.framesStored >= 2, 5_000, 'frames stored');
    const expected = a.replica.entries();
    await a.close();
    await relay.close();

    relay = await RelayServer.start({ port, store: new DiskFrameStore({ dir }) });
    cleanup.push(() => relay.close());
    const b = await openSyncedReplicaNode({ relayUrl: relay.url, ...options });
    cleanup.push(() => b.close());
    await until(() => b.replica.size === expected.length, 10_000, 'catch-up from stored frames');
    expect(b.replica.entries()).toEqual(expected);
    expect(b.session.status().peersSeen.length).toBeGreaterThanOrEqual(1);
    expect(relay.connectionCount).toBe(1);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { seededRandom } from '../../src/core/random.js';
import { openSyncedReplicaNode } from '../../src/client/node.js';
import type { SyncedReplica } from '../../src/client/open-synced-replica.js';
import { generateRoomKey, roomKeyToInvite } from '../../src/crypto/room-key.js';
import { RelayServer } from '../../src/relay/server.js';
import { ManualScheduler } from '../../src/sync/scheduler.js';
import { reconnectDelayMs, WebSocketTransport } from '../../src/sync/websocket-transport.js';
import { until } from '../relay/helpers.js';

const opened: SyncedReplica[] = [];
const relays: RelayServer[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.close()));
  await Promise.all(relays.splice(0).map((r) => r.close()));
});

const fast = { transport: { reconnectDelayMsMin: 20, reconnectDelayMsMax: 200 }, session: { antiEntropyIntervalMs: 200 } };

async function peer(relayUrl: string, invite: string): Promise<SyncedReplica> {
  const synced = await openSyncedReplicaNode({ relayUrl, key: invite, ...fast });
  opened.push(synced);
  return synced;
}

const same = (peers: SyncedReplica[]) => () => {
  const first = JSON.stringify(peers[0]?.replica.entries());
  return peers.every((p) => JSON.stringify(p.replica.entries()) === first);
};

describe('reconnect backoff', () => {
  it('grows exponentially, stays within [delay/2, delay] and is capped', () => {
    const random = seededRandom(3);
    for (let attempt = 0; attempt < 20; attempt++) {
      const ceiling = Math.min(10_000, 100 * 2 ** attempt);
      const d = reconnectDelayMs(attempt, 100, 10_000, random);
      expect(d).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
  });

  it('retries a refused relay on the injected scheduler, without real timers', () => {
    const scheduler = new ManualScheduler();
    const attempts: string[] = [];
    class RefusingSocket {
      binaryType = '';
      readyState = 0;
      bufferedAmount = 0;
      onopen: ((e: unknown) => void) | null = null;
      onclose: ((e: unknown) => void) | null = null;
      onerror: ((e: unknown) => void) | null = null;
      onmessage: ((e: { data: unknown }) => void) | null = null;
      constructor(url: string) {
        attempts.push(url);
      }
      send(): void {}
      close(): void {}
    }
    const transport = new WebSocketTransport({
      url: 'ws://x/rooms/r',
      WebSocket: RefusingSocket,
      scheduler,
      random: seededRandom(1),
      reconnectDelayMsMin: 100,
      reconnectDelayMsMax: 1_000,
      connectTimeoutMs: 50,
    });
    expect(attempts.length).toBe(1);
    scheduler.advance(50); // connect timeout
    expect(transport.stats().state).toBe('waiting');
    scheduler.advance(100);
    expect(attempts.length).toBe(2);
    scheduler.advance(10_000);
    expect(attempts.length).toBeGreaterThan(5);
    const { disconnects } = transport.stats();
    expect(disconnects === attempts.length || disconnects === attempts.length - 1).toBe(true);
    void transport.close();
    expect(() => new WebSocketTransport({ url: 'http://x' })).toThrow(InvalidArgumentError);
  });
});

describe('openSyncedReplica through a real relay', () => {
  it('converges three replicas, survives a relay restart, and syncs offline edits both ways', async () => {
    let relay = await RelayServer.start({ port: 0 });
    relays.push(relay);
    const port = relay.port;
    const invite = roomKeyToInvite(generateRoomKey());
    const url = relay.url;
    const peers = [await peer(url, invite), await peer(url, invite), await peer(url, invite)];
    await until(() => peers.every((p) => p.socket.connected), 5_000, 'connect');
    await Promise.all(peers.map((p, i) => Promise.all(Array.from({ length: 50 }, (_, j) => p.replica.set(`k${j % 20}`, `v${i}-${j}`)))));
    await until(same(peers), 10_000, 'convergence');
    expect(peers[0]?.replica.size).toBe(20);

    await relay.close();
    relays.length = 0;
    await until(() => peers.every((p) => !p.socket.connected), 5_000, 'disconnect');
    // Written while the relay is down: must arrive after it comes back.
    await peers[0]?.replica.set('offline-0', 'a');
    await peers[2]?.replica.set('offline-2', 'c');
    relay = await RelayServer.start({ port });
    relays.push(relay);
    await until(() => peers.every((p) => p.socket.connected), 10_000, 'reconnect');
    await until(() => same(peers)() && peers[1]?.replica.get('offline-0') === 'a' && peers[1]?.replica.get('offline-2') === 'c', 10_000, 'convergence after restart');
    expect(peers.every((p) => p.socket.stats().connects >= 2)).toBe(true);
    expect(peers.every((p) => Object.keys(p.encryption.stats().framesRejected).length === 0)).toBe(true);
  });

  it('refuses to open with both or neither of key and passphrase', async () => {
    await expect(openSyncedReplicaNode({ relayUrl: 'ws://127.0.0.1:1' })).rejects.toThrow(InvalidArgumentError);
  });
});

describe('openSyncedReplicaNode with encryption at rest', () => {
  it('reopens its file log with the key, and a wrong key fails typed and releases the lock', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { WrongKeyError } = await import('../../src/crypto/errors.js');
    const dir = await mkdtemp(join(tmpdir(), 'tidelog-synced-'));
    try {
      const key = generateRoomKey();
      const options = { relayUrl: 'ws://127.0.0.1:1', dir, encryptAtRest: true, transport: { reconnectDelayMsMin: 1_000 } };
      const first = await openSyncedReplicaNode({ ...options, key });
      await first.replica.set('secret', 'value');
      await first.close();
      await expect(openSyncedReplicaNode({ ...options, key: generateRoomKey() })).rejects.toThrow(WrongKeyError);
      const again = await openSyncedReplicaNode({ ...options, key });
      expect(again.replica.get('secret')).toBe('value');
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

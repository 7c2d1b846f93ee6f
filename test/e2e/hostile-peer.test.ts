/**
 * Bad input to the client through a real relay: a hostile member of the room sends
 * random bytes, envelopes under a wrong key, tampered, truncated and replayed copies of
 * honest frames, and (holding the key) well-sealed but malformed sync messages. The
 * honest replicas reject each with a typed reason, apply nothing partially, and keep
 * syncing with each other.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { openSyncedReplicaNode } from '../../src/client/node.js';
import type { SyncedReplica } from '../../src/client/open-synced-replica.js';
import { EnvelopeSealer } from '../../src/crypto/envelope.js';
import { seededRandomBytes } from '../../src/crypto/random-bytes.js';
import { generateRoomKey } from '../../src/crypto/room-key.js';
import { RelayServer } from '../../src/relay/server.js';
import { until } from '../relay/helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const text = new TextEncoder();
const frame = (version: number, type: number, body: unknown) => new Uint8Array([version, type, ...text.encode(JSON.stringify(body))]);

describe('a hostile member of the room', () => {
  it('cannot crash, poison or stall the honest replicas', async () => {
    const relay = await RelayServer.start({ port: 0 });
    cleanup.push(() => relay.close());
    const key = generateRoomKey();
    const options = { relayUrl: relay.url, key, transport: { reconnectDelayMsMin: 20, reconnectDelayMsMax: 200 }, session: { antiEntropyIntervalMs: 200 } };
    const honest: SyncedReplica[] = [await openSyncedReplicaNode(options), await openSyncedReplicaNode(options)];
    for (const peer of honest) cleanup.push(() => peer.close());
    const [a, b] = honest as [SyncedReplica, SyncedReplica];

    const attacker = new WebSocket(`${relay.url}/rooms/${key.roomId}`);
    const captured: Buffer[] = [];
    attacker.on('message', (data) => captured.push(data as Buffer));
    await new Promise((resolve) => attacker.once('open', resolve));
    cleanup.push(async () => attacker.terminate());
    await until(() => a.socket.connected && b.socket.connected);

    for (let i = 0; i < 50; i++) await a.replica.set(`a-${i}`, i);
    await until(() => b.replica.size === 50 && captured.length >= 5, 10_000, 'first sync');

    const random = seededRandomBytes(99);
    const send = (bytes: Uint8Array) => attacker.send(bytes);
    for (let i = 0; i < 30; i++) send(random.bytes(1 + ((i * 37) % 500)));
    const wrongKey = new EnvelopeSealer(generateRoomKey(seededRandomBytes(5)), 'eve');
    send(await wrongKey.seal(text.encode('hello')));
    for (const honestFrame of captured.slice(0, 5)) {
      const tampered = Buffer.from(honestFrame);
      tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 0x40;
      send(tampered);
      send(honestFrame.subarray(0, honestFrame.length - 7));
      for (let r = 0; r < 3; r++) send(honestFrame);
    }
    // Holding the key: sealed, authentic, but malformed sync messages.
    const insider = new EnvelopeSealer(key, 'mallory');
    const malformed = [
      random.bytes(64),
      frame(9, 2, { f: 'mallory', o: { v: 1, r: [], o: [] } }),
      frame(1, 7, { f: 'mallory' }),
      frame(1, 2, {
        f: 'mallory',
        o: {
          v: 1,
          r: ['mallory'],
          o: [
            [0, 1, 1, 0, 'poison-key', 'x'],
            [0, -1, 1, 0, 'bad'],
          ],
        },
      }),
      frame(1, 1, { f: 'mallory', vv: { x: 'not a number' }, h: {}, tp: {}, r: 1 }),
      text.encode('{"f":'),
    ];
    for (const message of malformed) send(await insider.seal(message));

    for (let i = 0; i < 50; i++) await b.replica.set(`b-${i}`, i);
    await until(() => a.replica.size === 100 && b.replica.size === 100, 10_000, 'sync after the attack');
    expect(a.replica.entries()).toEqual(b.replica.entries());
    for (const peer of honest) {
      expect(peer.replica.has('poison-key')).toBe(false);
      const rejected = peer.encryption.stats().framesRejected;
      expect(rejected['wrong-key']).toBeGreaterThanOrEqual(1);
      // A peer's own frames, reflected back, are refused by sender before authentication.
      expect((rejected.tampered ?? 0) + (rejected['wrong-sender'] ?? 0)).toBeGreaterThanOrEqual(5);
      expect(rejected.truncated).toBeGreaterThanOrEqual(5);
      expect(Object.values(rejected).reduce((n, v) => n + (v ?? 0), 0)).toBeGreaterThanOrEqual(30 + 1 + 10);
      expect(peer.session.status().framesMalformed).toBeGreaterThanOrEqual(malformed.length);
      expect(peer.socket.connected).toBe(true);
    }
  });
});

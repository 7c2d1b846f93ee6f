import { describe, expect, it } from 'vitest';
import { decodeOps, encodeOps } from '../../src/core/codec.js';
import { Replica } from '../../src/core/replica.js';
import { EncryptedTransport } from '../../src/crypto/encrypted-transport.js';
import { seededRandomBytes } from '../../src/crypto/random-bytes.js';
import { generateRoomKey } from '../../src/crypto/room-key.js';
import type { TransportListener } from '../../src/sync/transport.js';
import { MemoryHub } from './hub.js';

const key = generateRoomKey(seededRandomBytes(11));

function collector(): TransportListener & { frames: Uint8Array[]; ups: number } {
  const out = {
    frames: [] as Uint8Array[],
    ups: 0,
    frame: (b: Uint8Array) => void out.frames.push(b),
    up: () => {
      out.ups += 1;
    },
    down: () => undefined,
  };
  return out;
}

async function settle(...transports: EncryptedTransport[]): Promise<void> {
  for (let i = 0; i < 3; i++) {
    for (const t of transports) await t.flush();
    await new Promise((r) => setTimeout(r, 0));
  }
}

describe('EncryptedTransport', () => {
  it('delivers plaintext in order while the wire carries only ciphertext', async () => {
    const hub = new MemoryHub();
    const alice = new EncryptedTransport(hub.join(), { key });
    const bob = new EncryptedTransport(hub.join(), { key });
    const got = collector();
    alice.listen(collector());
    bob.listen(got);
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      sent.push(`{"secret-key-${i}":"secret-value-${i}"}`);
      alice.send(new TextEncoder().encode(sent[i] as string));
    }
    await settle(alice, bob);
    expect(got.ups).toBe(1);
    expect(got.frames.map((f) => new TextDecoder().decode(f))).toEqual(sent);
    const wire = Buffer.concat(hub.wire);
    expect(wire.includes('secret')).toBe(false);
    expect(alice.stats().framesSealed).toBe(200);
    expect(bob.stats().framesOpened).toBe(200);
  });

  it('drops and counts garbage, wrong keys and reflections, and keeps delivering honest frames', async () => {
    const hub = new MemoryHub();
    const alice = new EncryptedTransport(hub.join(), { key });
    const bob = new EncryptedTransport(hub.join(), { key });
    const eve = new EncryptedTransport(hub.join(), { key: generateRoomKey(seededRandomBytes(12)) });
    const got = collector();
    const rejected: string[] = [];
    alice.listen(collector());
    eve.listen(collector());
    const bobWithLog = new EncryptedTransport(hub.join(), { key, onReject: (e) => rejected.push(e.reason) });
    bobWithLog.listen(got);
    bob.listen(collector());
    alice.send(new TextEncoder().encode('one'));
    await settle(alice);
    const captured = hub.wire.at(-1) as Uint8Array;
    eve.send(new TextEncoder().encode('from eve'));
    hub.inject(new Uint8Array([1, 2, 3]));
    hub.inject(new Uint8Array(0));
    const flipped = captured.slice();
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 0xff;
    hub.inject(flipped);
    hub.inject(captured.subarray(0, captured.length - 3));
    // The relay reflects Bob's own frame back to him.
    bobWithLog.send(new TextEncoder().encode('mine'));
    await settle(alice, eve, bobWithLog);
    hub.inject((hub.wire.at(-1) as Uint8Array).slice());
    alice.send(new TextEncoder().encode('two'));
    await settle(alice, eve, bobWithLog);
    expect(got.frames.map((f) => new TextDecoder().decode(f))).toEqual(['one', 'two']);
    expect(bobWithLog.stats().framesRejected).toEqual({ 'wrong-key': 1, truncated: 3, tampered: 1, 'wrong-sender': 1 });
    expect(rejected.length).toBe(6);
  });

  it('keeps delivering after a listener throws', async () => {
    const hub = new MemoryHub();
    const alice = new EncryptedTransport(hub.join(), { key });
    const bob = new EncryptedTransport(hub.join(), { key });
    alice.listen(collector());
    const seen: string[] = [];
    bob.listen({
      frame: (b) => {
        const text = new TextDecoder().decode(b);
        seen.push(text);
        if (text === 'boom') throw new Error('listener bug');
      },
      up: () => undefined,
      down: () => undefined,
    });
    for (const word of ['a', 'boom', 'b']) alice.send(new TextEncoder().encode(word));
    await settle(alice, bob);
    expect(seen).toEqual(['a', 'boom', 'b']);
    expect(bob.stats().listenerErrors).toBe(1);
  });

  it('makes replayed envelopes harmless: the replica applies them once', async () => {
    const hub = new MemoryHub();
    const writer = await Replica.open();
    const reader = await Replica.open();
    const alice = new EncryptedTransport(hub.join(), { key });
    const bob = new EncryptedTransport(hub.join(), { key });
    alice.listen(collector());
    const results: number[] = [];
    let applying = Promise.resolve();
    bob.listen({
      frame: (bytes) => {
        applying = applying.then(async () => void results.push((await reader.applyRemote(decodeOps(bytes))).applied));
      },
      up: () => undefined,
      down: () => undefined,
    });
    const ops = [await writer.set('a', 1), await writer.set('b', 2), await writer.delete('a')];
    alice.send(encodeOps(ops));
    await settle(alice, bob);
    await applying;
    const before = JSON.stringify(reader.entries());
    for (const frame of hub.wire.slice()) for (let i = 0; i < 3; i++) hub.inject(frame.slice(), undefined);
    await settle(alice, bob);
    await applying;
    expect(results).toEqual([3, 0, 0, 0]);
    expect(JSON.stringify(reader.entries())).toBe(before);
    expect(reader.entries()).toEqual([['b', 2]]);
    await writer.close();
    await reader.close();
  });
});

describe('EncryptedTransport bounds', () => {
  it('drops and counts outgoing frames beyond pendingBytesMax instead of queueing them', async () => {
    const hub = new MemoryHub();
    const alice = new EncryptedTransport(hub.join(), { key, pendingBytesMax: 1_000 });
    alice.listen(collector());
    for (let i = 0; i < 10; i++) alice.send(new Uint8Array(400));
    await alice.flush();
    expect(alice.stats().framesDroppedOutgoing).toBe(8);
    expect(alice.stats().framesSealed).toBe(2);
    alice.send(new Uint8Array(400));
    await alice.flush();
    expect(alice.stats().framesSealed).toBe(3);
  });
});

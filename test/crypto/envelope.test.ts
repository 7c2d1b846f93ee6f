import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoFailedError, TamperedEnvelopeError, TruncatedEnvelopeError, UnsupportedVersionError, WrongKeyError, WrongSenderError } from '../../src/crypto/errors.js';
import { nobleAead, webCryptoAead } from '../../src/crypto/aead.js';
import { ENVELOPE_OVERHEAD_BYTES, EnvelopeOpener, EnvelopeSealer } from '../../src/crypto/envelope.js';
import { seededRandomBytes } from '../../src/crypto/random-bytes.js';
import { generateRoomKey } from '../../src/crypto/room-key.js';

const text = new TextEncoder();
const key = generateRoomKey(seededRandomBytes(7));
const engines = [nobleAead, webCryptoAead(globalThis.crypto.subtle)];

describe('envelopes', () => {
  it('round-trip, and both engines read each other', async () => {
    for (const sealEngine of engines) {
      for (const openEngine of engines) {
        const sealer = new EnvelopeSealer(key, 'alice', { aead: sealEngine });
        const opener = new EnvelopeOpener(key, { aead: openEngine });
        const payload = text.encode('hello, room');
        const envelope = await sealer.seal(payload);
        expect(envelope.length).toBe(payload.length + ENVELOPE_OVERHEAD_BYTES + 'alice'.length);
        const opened = await opener.open(envelope);
        expect(opened.sender).toBe('alice');
        expect(opened.plaintext).toEqual(payload);
      }
    }
  });

  it('never repeats a nonce or leaks the plaintext', async () => {
    const sealer = new EnvelopeSealer(key, 'alice');
    const a = await sealer.seal(text.encode('same'));
    const b = await sealer.seal(text.encode('same'));
    expect(Buffer.from(a).toString('hex')).not.toBe(Buffer.from(b).toString('hex'));
    expect(Buffer.from(a).includes(Buffer.from('same'))).toBe(false);
  });

  it('rejects every single flipped bit with a typed error', async () => {
    const sealer = new EnvelopeSealer(key, 'bob', { aead: nobleAead });
    const opener = new EnvelopeOpener(key, { aead: nobleAead });
    const envelope = await sealer.seal(text.encode('{"k":"v"}'));
    for (let i = 0; i < envelope.length; i++) {
      for (const bit of [0, 3, 7]) {
        const bad = envelope.slice();
        bad[i] = (bad[i] as number) ^ (1 << bit);
        const error = await opener.open(bad).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, `byte ${i} bit ${bit}`).toBeInstanceOf(CryptoFailedError);
      }
    }
  });

  it('rejects every truncation and extension as truncated', async () => {
    const sealer = new EnvelopeSealer(key, 'bob');
    const opener = new EnvelopeOpener(key);
    const envelope = await sealer.seal(text.encode('some payload bytes'));
    for (let length = 0; length < envelope.length; length++) {
      const error = await opener.open(envelope.subarray(0, length)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `length ${length}`).toBeInstanceOf(length === 0 ? TruncatedEnvelopeError : CryptoFailedError);
      if (length > 40) expect(error).toBeInstanceOf(TruncatedEnvelopeError);
    }
    const longer = new Uint8Array(envelope.length + 1);
    longer.set(envelope);
    await expect(opener.open(longer)).rejects.toThrow(TruncatedEnvelopeError);
  });

  it('tells a wrong key, a version, a tamper and a reflected sender apart', async () => {
    const envelope = await new EnvelopeSealer(key, 'carol').seal(text.encode('x'));
    const other = generateRoomKey(seededRandomBytes(8));
    await expect(new EnvelopeOpener(other).open(envelope)).rejects.toThrow(WrongKeyError);
    const v2 = envelope.slice();
    v2[0] = 2;
    await expect(new EnvelopeOpener(key).open(v2)).rejects.toThrow(UnsupportedVersionError);
    const tampered = envelope.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    await expect(new EnvelopeOpener(key).open(tampered)).rejects.toThrow(TamperedEnvelopeError);
    await expect(new EnvelopeOpener(key).open(envelope, 'carol')).rejects.toThrow(WrongSenderError);
  });

  it('binds the sender: relabelling an envelope to another sender fails authentication', async () => {
    const envelope = await new EnvelopeSealer(key, 'mallory').seal(text.encode('pay me'));
    const relabelled = envelope.slice();
    relabelled.set(text.encode('alice__'), envelope.length - 'pay me'.length - 16 - 'mallory'.length);
    await expect(new EnvelopeOpener(key).open(relabelled)).rejects.toThrow(TamperedEnvelopeError);
  });

  it('rekeys after messagesPerKeyMax envelopes, and receivers follow', async () => {
    const sealer = new EnvelopeSealer(key, 'dave', { messagesPerKeyMax: 3 });
    const opener = new EnvelopeOpener(key, { subkeysCachedMax: 2 });
    const salts = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const envelope = await sealer.seal(text.encode(`m${i}`));
      salts.add(Buffer.from(envelope.subarray(9, 25)).toString('hex'));
      expect((await opener.open(envelope)).plaintext).toEqual(text.encode(`m${i}`));
    }
    expect(sealer.keyEpochs).toBe(4);
    expect(salts.size).toBe(4);
    expect(() => new EnvelopeSealer(key, 'dave', { messagesPerKeyMax: 2 ** 32 })).toThrow(CryptoFailedError);
  });

  it('never throws anything but a typed error on random bytes', async () => {
    const opener = new EnvelopeOpener(key);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (bytes, fixHeader) => {
        const input = bytes.slice();
        if (fixHeader && input.length > 9) {
          input[0] = 1;
          input.set(key.fingerprint, 1);
        }
        const error = await opener.open(input).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(CryptoFailedError);
      }),
    );
  });
});

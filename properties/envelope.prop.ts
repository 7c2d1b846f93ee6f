/**
 * Envelope properties over random plaintexts, senders, contexts and corruptions:
 * every envelope opens to exactly its plaintext with its sender and context, under
 * either engine; any change to its bytes or to the context is a typed rejection.
 * Replay a failure: see fc-config.ts (FC_SEED / FC_PATH).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoFailedError } from '../src/crypto/errors.js';
import { type Aead, nobleAead, webCryptoAead } from '../src/crypto/aead.js';
import { EnvelopeOpener, EnvelopeSealer } from '../src/crypto/envelope.js';
import { seededRandomBytes } from '../src/crypto/random-bytes.js';
import { generateRoomKey } from '../src/crypto/room-key.js';
import { fcParams } from './fc-config.js';

const key = generateRoomKey(seededRandomBytes(404));
const engines = [nobleAead, webCryptoAead(globalThis.crypto.subtle)];
const sender = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => new TextEncoder().encode(s).length <= 64);

describe('envelope properties', () => {
  it('round-trip any plaintext, sender and context across engines', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2_000 }), sender, fc.uint8Array({ maxLength: 64 }), fc.nat(1), fc.nat(1), async (plaintext, from, context, s, o) => {
        const envelope = await new EnvelopeSealer(key, from, { aead: engines[s] as Aead }).seal(plaintext, context);
        const opened = await new EnvelopeOpener(key, { aead: engines[o] as Aead }).open(envelope, undefined, context);
        expect(opened.sender).toBe(from);
        expect(opened.plaintext).toEqual(plaintext);
      }),
      fcParams(100),
    );
  });

  it('reject any byte change, cut, extension or other context with a typed error', async () => {
    const opener = new EnvelopeOpener(key, { aead: nobleAead });
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        sender,
        fc.oneof(
          fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
          fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
          fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
          fc.record({ kind: fc.constant('context' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
        ),
        async (plaintext, from, change) => {
          const envelope = await new EnvelopeSealer(key, from, { aead: nobleAead }).seal(plaintext);
          let bad = envelope;
          let context = new Uint8Array(0);
          if (change.kind === 'flip') {
            bad = envelope.slice();
            const at = change.at % bad.length;
            bad[at] = (bad[at] as number) ^ change.mask;
          } else if (change.kind === 'cut') bad = envelope.subarray(0, change.at % envelope.length);
          else if (change.kind === 'extend') bad = new Uint8Array([...envelope, ...change.extra]);
          else context = change.extra;
          const error = await opener.open(bad, undefined, context).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(CryptoFailedError);
        },
      ),
      fcParams(300),
    );
  });
});

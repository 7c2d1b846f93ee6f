import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CryptoFailedError, TamperedEnvelopeError } from '../../src/crypto/errors.js';
import { nobleAead, webCryptoAead } from '../../src/crypto/aead.js';
import { nodeAead } from '../../src/crypto/node-aead.js';

describe('nodeAead (node:crypto AES-256-GCM)', () => {
  const raw = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(randomBytes(12));
  const ad = new TextEncoder().encode('room|header');

  it('seals to the same bytes as WebCrypto and noble, and opens theirs', async () => {
    const engines = [nodeAead, nobleAead, webCryptoAead(globalThis.crypto.subtle)];
    const keys = await Promise.all(engines.map((engine) => engine.importKey(raw)));
    for (const size of [0, 1, 15, 16, 17, 59_000]) {
      const plaintext = new Uint8Array(randomBytes(size));
      const sealed = await Promise.all(keys.map((key) => key.seal(nonce, ad, plaintext)));
      for (const other of sealed) expect(other).toEqual(sealed[0]);
      for (const key of keys) expect(await key.open(nonce, ad, sealed[0] as Uint8Array)).toEqual(plaintext);
    }
  });

  it('rejects a flipped byte anywhere, other associated data, a short input and a wrong key with TamperedEnvelopeError', async () => {
    const key = await nodeAead.importKey(raw);
    const plaintext = new Uint8Array(randomBytes(100));
    const sealed = await key.seal(nonce, ad, plaintext);
    for (let at = 0; at < sealed.length; at += 7) {
      const copy = sealed.slice();
      copy[at] = (copy[at] as number) ^ 1;
      await expect(key.open(nonce, ad, copy)).rejects.toBeInstanceOf(TamperedEnvelopeError);
    }
    await expect(key.open(nonce, new Uint8Array([1]), sealed)).rejects.toBeInstanceOf(TamperedEnvelopeError);
    await expect(key.open(nonce, ad, sealed.subarray(0, 10))).rejects.toBeInstanceOf(TamperedEnvelopeError);
    const other = await nodeAead.importKey(new Uint8Array(randomBytes(32)));
    await expect(other.open(nonce, ad, sealed)).rejects.toBeInstanceOf(TamperedEnvelopeError);
    await expect(nodeAead.importKey(new Uint8Array(31))).rejects.toBeInstanceOf(CryptoFailedError);
  });
});

/**
 * AES-256-GCM through `node:crypto` (OpenSSL, hardware AES), for Node only: `tidelog/node` uses it by default.
 * Same bytes as the other engines (ciphertext followed by a 16-byte tag). It runs synchronously on the calling
 * thread: for sync frames (tens of KB) that costs less than WebCrypto's hop to the thread pool and back, and
 * the copies on the way (relay bench: ~0.2 us per op less on every reader and on the writer).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { InvalidKeyMaterialError, TamperedEnvelopeError } from './errors.js';
import { AEAD_KEY_BYTES, AEAD_TAG_BYTES, type Aead, type AeadKey } from './aead.js';

/** AES-256-GCM on `node:crypto`. */
export const nodeAead: Aead = {
  name: 'node',
  async importKey(raw: Uint8Array): Promise<AeadKey> {
    if (!(raw instanceof Uint8Array) || raw.length !== AEAD_KEY_BYTES) {
      throw new InvalidKeyMaterialError(`an AES-256 key is ${AEAD_KEY_BYTES} bytes`, { length: (raw as Uint8Array | undefined)?.length });
    }
    const key = Buffer.from(raw);
    return {
      async seal(nonce, associatedData, plaintext) {
        const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
        cipher.setAAD(associatedData);
        const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
        const body = cipher.update(plaintext);
        out.set(body);
        const rest = cipher.final();
        out.set(rest, body.length);
        out.set(cipher.getAuthTag(), body.length + rest.length);
        return out;
      },
      async open(nonce, associatedData, sealed) {
        if (sealed.length < AEAD_TAG_BYTES) throw new TamperedEnvelopeError('authentication failed: shorter than a tag');
        const bodyBytes = sealed.length - AEAD_TAG_BYTES;
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
          decipher.setAAD(associatedData);
          decipher.setAuthTag(sealed.subarray(bodyBytes));
          const body = decipher.update(sealed.subarray(0, bodyBytes));
          const rest = decipher.final();
          if (rest.length === 0) return new Uint8Array(body.buffer, body.byteOffset, body.length);
          const out = new Uint8Array(body.length + rest.length);
          out.set(body);
          out.set(rest, body.length);
          return out;
        } catch {
          throw new TamperedEnvelopeError('authentication failed');
        }
      },
    };
  },
};

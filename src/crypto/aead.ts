/**
 * AES-256-GCM behind one small async interface, with two engines: WebCrypto
 * (hardware AES, the default wherever `crypto.subtle` exists) and @noble/ciphers
 * (pure JS, for insecure browser contexts and runtimes without SubtleCrypto).
 * Both produce the same bytes: ciphertext followed by a 16-byte tag.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { InvalidKeyMaterialError, TamperedEnvelopeError } from './errors.js';

/** Bytes of an AES-256 key. */
export const AEAD_KEY_BYTES = 32;
/** Bytes of a GCM nonce (96 bits: the only size GCM handles without hashing it). */
export const AEAD_NONCE_BYTES = 12;
/** Bytes of a GCM tag appended to every ciphertext. */
export const AEAD_TAG_BYTES = 16;

/** One imported key. */
export interface AeadKey {
  /** Encrypts and authenticates `plaintext` with `associatedData`; returns ciphertext || tag. */
  seal(nonce: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /** Verifies and decrypts. @throws TamperedEnvelopeError when authentication fails. */
  open(nonce: Uint8Array, associatedData: Uint8Array, sealed: Uint8Array): Promise<Uint8Array>;
}

/** An AES-256-GCM engine. */
export interface Aead {
  /** The engine's name, for benchmarks and logs. */
  readonly name: string;
  /** Prepares a 32-byte raw key for use. */
  importKey(raw: Uint8Array): Promise<AeadKey>;
}

function checkKey(raw: Uint8Array): void {
  if (!(raw instanceof Uint8Array) || raw.length !== AEAD_KEY_BYTES) {
    throw new InvalidKeyMaterialError(`an AES-256 key is ${AEAD_KEY_BYTES} bytes`, { length: (raw as Uint8Array | undefined)?.length });
  }
}

/** AES-256-GCM in pure JavaScript (@noble/ciphers): synchronous underneath, constant-time tables. */
export const nobleAead: Aead = {
  name: 'noble',
  async importKey(raw: Uint8Array): Promise<AeadKey> {
    checkKey(raw);
    const key = raw.slice();
    return {
      async seal(nonce, associatedData, plaintext) {
        return gcm(key, nonce, associatedData).encrypt(plaintext);
      },
      async open(nonce, associatedData, sealed) {
        try {
          return gcm(key, nonce, associatedData).decrypt(sealed);
        } catch (error) {
          throw new TamperedEnvelopeError(`authentication failed: ${(error as Error).message}`);
        }
      },
    };
  },
};

/** AES-256-GCM through WebCrypto (`crypto.subtle`), hardware-accelerated where the CPU has AES instructions. */
export function webCryptoAead(subtle: SubtleCrypto): Aead {
  return {
    name: 'webcrypto',
    async importKey(raw: Uint8Array): Promise<AeadKey> {
      checkKey(raw);
      const key = await subtle.importKey('raw', raw as BufferSource, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
      return {
        async seal(nonce, associatedData, plaintext) {
          const params = { name: 'AES-GCM', iv: nonce as BufferSource, additionalData: associatedData as BufferSource, tagLength: 128 };
          return new Uint8Array(await subtle.encrypt(params, key, plaintext as BufferSource));
        },
        async open(nonce, associatedData, sealed) {
          const params = { name: 'AES-GCM', iv: nonce as BufferSource, additionalData: associatedData as BufferSource, tagLength: 128 };
          try {
            return new Uint8Array(await subtle.decrypt(params, key, sealed as BufferSource));
          } catch {
            throw new TamperedEnvelopeError('authentication failed');
          }
        },
      };
    },
  };
}

/** WebCrypto when the platform offers it (Node, secure browser contexts), else @noble/ciphers. */
export function defaultAead(): Aead {
  const subtle = (globalThis.crypto as Crypto | undefined)?.subtle;
  return subtle === undefined ? nobleAead : webCryptoAead(subtle);
}

/**
 * Cryptographic randomness, injected. Kept apart from the seedable `Random`
 * of the core: keys, salts and nonces come only from here, so tests can make
 * them deterministic without a seeded generator ever reaching production.
 */

/** A source of cryptographically strong random bytes. */
export interface RandomBytes {
  /** Returns `length` fresh random bytes. */
  bytes(length: number): Uint8Array;
}

/** getRandomValues fills at most 65,536 bytes per call (WebCrypto limit). */
const GET_RANDOM_VALUES_BYTES_MAX = 65_536;

/** The platform's CSPRNG (WebCrypto `getRandomValues`): the default everywhere. */
export const systemRandomBytes: RandomBytes = {
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += GET_RANDOM_VALUES_BYTES_MAX) {
      globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + GET_RANDOM_VALUES_BYTES_MAX))); // injected default
    }
    return out;
  },
};

/**
 * A deterministic byte stream for tests and the simulator (xorshift-based).
 * Never use it for real keys or nonces.
 */
export function seededRandomBytes(seed: number): RandomBytes {
  let state = seed >>> 0 || 0x9e3779b9;
  return {
    bytes(length: number): Uint8Array {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        state >>>= 0;
        out[i] = state & 0xff;
      }
      return out;
    },
  };
}

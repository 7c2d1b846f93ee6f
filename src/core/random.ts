/**
 * Randomness, injected. Seedable randomness (`Random`) is kept apart from the
 * cryptographic kind (see `src/crypto`), so the simulator can seed this one
 * without weakening keys or nonces.
 */

/** A source of uniformly distributed 32-bit unsigned integers. */
export interface Random {
  /** A uniform integer in [0, 2^32). */
  nextUint32(): number;
}

/** The platform's cryptographic generator: the default outside the simulator. */
export const systemRandom: Random = {
  nextUint32(): number {
    const word = new Uint32Array(1);
    globalThis.crypto.getRandomValues(word); // injected default: the real CSPRNG
    return word[0] as number;
  },
};

/**
 * A small, fast, seeded generator (sfc32) for tests; the simulator uses seedrandom.
 * Not for keys or nonces.
 */
export function seededRandom(seed: number): Random {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) next();
  return { nextUint32: next };
}

/** A uniform float in [0, 1) from a {@link Random}. */
export function randomFloat(random: Random): number {
  return random.nextUint32() / 4294967296;
}

/** A random replica id: 16 lowercase hex characters (64 bits), enough that ids never collide. */
export function randomReplicaId(random: Random): string {
  return hex8(random.nextUint32()) + hex8(random.nextUint32());
}

function hex8(word: number): string {
  return word.toString(16).padStart(8, '0');
}

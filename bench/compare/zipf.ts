/**
 * YCSB's zipfian key chooser (Gray et al., "Quickly generating billion-record
 * synthetic databases", SIGMOD 1994), seeded, with YCSB's default constant 0.99
 * and its "scrambled" variant: the popular items are spread over the key space
 * by an FNV hash instead of being keys 0, 1, 2...
 */
import { randomFloat, seededRandom } from '../../src/core/index.js';

/** YCSB's default zipfian constant. */
export const ZIPFIAN_CONSTANT = 0.99;

function zeta(n: number, theta: number): number {
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += 1 / i ** theta;
  return sum;
}

/** 64-bit FNV-1a of a non-negative integer, reduced to 32 bits: YCSB's scrambling hash, folded. */
function fnvScramble(value: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < 4; i++) {
    hash ^= (value >>> (i * 8)) & 0xff;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Draws item indexes in [0, itemCount) with zipfian popularity; deterministic for a seed. */
export class ZipfianGenerator {
  private readonly alpha: number;
  private readonly zetan: number;
  private readonly eta: number;
  private readonly random;

  constructor(
    private readonly itemCount: number,
    seed: number,
    private readonly theta = ZIPFIAN_CONSTANT,
    private readonly scrambled = true,
  ) {
    if (!Number.isSafeInteger(itemCount) || itemCount < 2) throw new RangeError('itemCount must be an integer >= 2');
    this.random = seededRandom(seed);
    this.zetan = zeta(itemCount, theta);
    const zeta2 = zeta(2, theta);
    this.alpha = 1 / (1 - theta);
    this.eta = (1 - (2 / itemCount) ** (1 - theta)) / (1 - zeta2 / this.zetan);
  }

  /** The next item index. */
  next(): number {
    const u = randomFloat(this.random);
    const uz = u * this.zetan;
    let rank: number;
    if (uz < 1) rank = 0;
    else if (uz < 1 + 0.5 ** this.theta) rank = 1;
    else rank = Math.floor(this.itemCount * (this.eta * u - this.eta + 1) ** this.alpha);
    if (rank >= this.itemCount) rank = this.itemCount - 1;
    return this.scrambled ? fnvScramble(rank) % this.itemCount : rank;
  }

  /** A uniform float in [0, 1) from the same seeded stream (for choosing read vs update). */
  uniform(): number {
    return randomFloat(this.random);
  }
}

/**
 * The simulator's one source of randomness: seedrandom's Alea generator. Every
 * sub-simulator gets its own stream derived from the run seed and a label, so
 * cutting work out of one stream (shrinking) leaves the others unchanged.
 */
import seedrandom from 'seedrandom';
import type { Random } from '../core/random.js';

/** A seeded pseudo-random stream. */
export class Prng implements Random {
  private readonly next: () => number;

  /** A stream for `seed`, optionally derived under `label`. */
  constructor(seed: number | string, label = '') {
    this.next = seedrandom.alea(`${seed}/${label}`);
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.next();
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniform integer in [min, max]. */
  range(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** A uniform element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A uniform 32-bit unsigned integer (the core's `Random`, for replica ids). */
  nextUint32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}

/** Draws indexes in [0, n) with Zipf(s) weights: index 0 is hottest. */
export class ZipfSampler {
  private readonly cdf: Float64Array;

  constructor(n: number, exponent = 1.1) {
    this.cdf = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += 1 / (i + 1) ** exponent;
      this.cdf[i] = total;
    }
    for (let i = 0; i < n; i++) (this.cdf[i] as number) /= total;
  }

  /** One draw using `prng`. */
  sample(prng: Prng): number {
    const u = prng.float();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Hybrid Logical Clock (Kulkarni et al., 2014). A timestamp is (wall ms, logical
 * counter); the replica id breaks the last tie, so the order of ops is total.
 * Every local tick orders after everything the replica has seen, whatever its
 * wall clock says: that is what makes last-writer-wins causal.
 */
import type { Clock } from './clock.js';

/** An HLC timestamp without the replica tiebreak. */
export interface HlcTimestamp {
  /** Physical component: milliseconds since the epoch, never behind anything seen. */
  readonly wall: number;
  /** Logical counter, breaking ties within one millisecond. */
  readonly logical: number;
}

/** Orders two timestamps: negative, zero or positive. */
export function compareHlc(a: HlcTimestamp, b: HlcTimestamp): number {
  return a.wall !== b.wall ? a.wall - b.wall : a.logical - b.logical;
}

/** The zero timestamp, before every op. */
export const HLC_ZERO: HlcTimestamp = Object.freeze({ wall: 0, logical: 0 });

/** A replica's hybrid logical clock. */
export class HybridLogicalClock {
  private wall: number;
  private logical: number;

  /** Starts after `last` (the highest timestamp already seen, e.g. recovered from storage). */
  constructor(
    private readonly clock: Clock,
    last: HlcTimestamp = HLC_ZERO,
  ) {
    this.wall = last.wall;
    this.logical = last.logical;
  }

  /** The next timestamp for a local op: strictly after every earlier tick and observation. */
  tick(): HlcTimestamp {
    const physical = Math.floor(this.clock.now());
    if (physical > this.wall) {
      this.wall = physical;
      this.logical = 0;
    } else {
      this.logical += 1;
    }
    return { wall: this.wall, logical: this.logical };
  }

  /** Takes in a timestamp seen on a remote op, so later ticks order after it. */
  observe(remote: HlcTimestamp): void {
    if (remote.wall > this.wall || (remote.wall === this.wall && remote.logical > this.logical)) {
      this.wall = remote.wall;
      this.logical = remote.logical;
    }
  }

  /** The highest timestamp issued or observed so far. */
  current(): HlcTimestamp {
    return { wall: this.wall, logical: this.logical };
  }
}

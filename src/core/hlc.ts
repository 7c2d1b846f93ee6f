/**
 * Hybrid Logical Clock (Kulkarni et al., 2014). A timestamp is (wall ms, logical
 * counter); the replica id breaks the last tie, so the order of ops is total.
 * Every local tick orders after everything the replica has seen, whatever its
 * wall clock says: that is what makes last-writer-wins causal.
 *
 * Both parts are bounded ({@link WALL_MAX}, {@link LOGICAL_MAX}) so the arithmetic stays exact: a logical
 * counter that would pass its bound moves the clock to the next millisecond instead, and a clock reading
 * outside `0..WALL_MAX` (NaN, Infinity, a negative or absurd time) is never adopted.
 */
import type { Clock } from './clock.js';
import { ClockDriftError } from './errors.js';

/** An HLC timestamp without the replica tiebreak. */
export interface HlcTimestamp {
  /** Physical component: milliseconds since the epoch, never behind anything seen. */
  readonly wall: number;
  /** Logical counter, breaking ties within one millisecond. */
  readonly logical: number;
}

/**
 * Latest wall time accepted anywhere (ops decoded from the wire or from storage, clock readings): 2^48 - 1 ms,
 * the year 10889. Far past any honest clock, and `wall + 1` and `wall + maxDriftMs` stay exact integers.
 */
export const WALL_MAX = 2 ** 48 - 1;

/**
 * Highest logical counter accepted: 2^32 - 1. A local tick that would pass it takes the next millisecond;
 * a remote op carrying more is malformed. (Unbounded, one hostile op at 2^53 - 4 made the counter stop
 * counting within four writes and the log unreadable.)
 */
export const LOGICAL_MAX = 2 ** 32 - 1;

/** Default of `maxDriftMs`: how far ahead of the local clock an op's wall time may be. 5 minutes. */
export const MAX_DRIFT_MS_DEFAULT = 5 * 60_000;

/** True when `wall` and `logical` are integers within {@link WALL_MAX} and {@link LOGICAL_MAX}. */
export function isValidTimestamp(wall: unknown, logical: unknown): boolean {
  return Number.isInteger(wall) && (wall as number) >= 0 && (wall as number) <= WALL_MAX && Number.isInteger(logical) && (logical as number) >= 0 && (logical as number) <= LOGICAL_MAX;
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
  /** The latest usable clock reading: a reading outside 0..WALL_MAX counts as the clock standing still. */
  private physical = 0;

  /**
   * Starts after `last` (the highest timestamp already seen, e.g. recovered from storage). `maxDriftMs` bounds how
   * far ahead of the physical clock a timestamp may be, for local writes ({@link assertWithinDrift}) and remote
   * ops ({@link driftLimit}).
   */
  constructor(
    private readonly clock: Clock,
    last: HlcTimestamp = HLC_ZERO,
    /** How far ahead of the physical clock a timestamp may lie. */
    readonly maxDriftMs = MAX_DRIFT_MS_DEFAULT,
  ) {
    this.wall = last.wall;
    this.logical = last.logical;
  }

  /** Reads the physical clock, keeping the last usable reading when it returns something that is not a time. */
  readPhysical(): number {
    const reading = this.clock.now();
    // NaN fails both comparisons, so it is ignored too.
    if (reading >= 0 && reading <= WALL_MAX) this.physical = Math.floor(reading);
    return this.physical;
  }

  /** The next timestamp for a local op: strictly after every earlier tick and observation. */
  tick(): HlcTimestamp {
    const physical = this.readPhysical();
    if (physical > this.wall) {
      this.wall = physical;
      this.logical = 0;
    } else if (this.logical < LOGICAL_MAX) {
      this.logical += 1;
    } else {
      // The counter is spent within this millisecond: take the next one (still after everything seen).
      if (this.wall >= WALL_MAX) throw new ClockDriftError(`the clock reached its last timestamp (${WALL_MAX}.${LOGICAL_MAX})`, { wall: this.wall, logical: this.logical });
      this.wall += 1;
      this.logical = 0;
    }
    return { wall: this.wall, logical: this.logical };
  }

  /**
   * Throws when the next local tick would be more than `maxDriftMs` ahead of the physical clock: the clock jumped
   * back after this replica wrote or saw later times (or those times came from a clock that was wrong). Such an op
   * would be refused by every peer whose clock agrees with ours, so it is refused here, before it is acknowledged.
   * @throws ClockDriftError naming the clock's reading, the timestamp it would have had and the bound.
   */
  assertWithinDrift(): void {
    const physical = this.readPhysical();
    if (this.wall - physical <= this.maxDriftMs) return;
    throw new ClockDriftError(
      `a local write would be stamped ${this.wall} ms, ${this.wall - physical} ms ahead of this device's clock (${physical} ms); the bound is ${this.maxDriftMs} ms (the clock went back, or an earlier reading was wrong): writes are refused until the clock passes ${this.wall - this.maxDriftMs} ms`,
      { origin: 'local', wall: this.wall, logical: this.logical, nowMs: physical, maxDriftMs: this.maxDriftMs, limitWall: physical + this.maxDriftMs, waitMs: this.wall - this.maxDriftMs - physical },
    );
  }

  /** The latest wall time a remote op may carry now: the physical clock plus `maxDriftMs`. */
  driftLimit(): number {
    return this.readPhysical() + this.maxDriftMs;
  }

  /** Takes in a timestamp seen on a remote op (already checked against the bounds), so later ticks order after it. */
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

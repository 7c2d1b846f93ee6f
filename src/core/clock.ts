/** Time, injected: the core never reads the wall clock itself. */

/** A source of physical time in milliseconds since the Unix epoch. */
export interface Clock {
  /** Current physical time, in whole milliseconds. */
  now(): number;
}

/** The real wall clock: the default outside the simulator. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to: the test and simulator twin of {@link systemClock}. */
export class ManualClock implements Clock {
  private timeMs: number;

  /** Starts at `startMs` (default 0). */
  constructor(startMs = 0) {
    this.timeMs = startMs;
  }

  /** The current manual time. */
  now(): number {
    return this.timeMs;
  }

  /** Moves time forward (or backward, to model a clock jump) by `deltaMs`. */
  advance(deltaMs: number): void {
    this.timeMs += deltaMs;
  }

  /** Sets the time outright. */
  set(timeMs: number): void {
    this.timeMs = timeMs;
  }
}

/**
 * Time for the sync protocol, injected: the session never touches real timers,
 * so the simulator can drive it from its virtual clock and replay it exactly.
 */

/** Cancels a pending timer; calling it twice is harmless. */
export type CancelTimer = () => void;

/** A source of time and one-shot timers. */
export interface Scheduler {
  /** Current time in milliseconds (virtual in the simulator). */
  now(): number;
  /**
   * Calls `callback` once after `delayMs`; returns its cancel function. A real timer does not keep a Node
   * process alive unless `keepAlive` says so (a transport waiting to reconnect: an open client keeps its
   * process alive, connected or not, until it is closed).
   */
  setTimer(delayMs: number, callback: () => void, options?: { readonly keepAlive?: boolean }): CancelTimer;
}

/** The real scheduler: the default outside the simulator. */
export const systemScheduler: Scheduler = {
  now: () => Date.now(), // injected default
  setTimer(delayMs, callback, options) {
    const handle = globalThis.setTimeout(callback, delayMs); // injected default
    // A sync session must never keep a Node process alive on its own.
    if (options?.keepAlive !== true) (handle as { unref?: () => void }).unref?.();
    return () => globalThis.clearTimeout(handle);
  },
};

/** A scheduler whose time moves only when told to: for unit tests of the protocol. */
export class ManualScheduler implements Scheduler {
  private timeMs = 0;
  private nextId = 0;
  private readonly timers = new Map<number, { atMs: number; callback: () => void }>();

  /** The manual time. */
  now(): number {
    return this.timeMs;
  }

  /** Registers a timer that fires when {@link advance} passes its due time. */
  setTimer(delayMs: number, callback: () => void): CancelTimer {
    const id = this.nextId++;
    this.timers.set(id, { atMs: this.timeMs + Math.max(0, delayMs), callback });
    return () => void this.timers.delete(id);
  }

  /** Moves time forward, firing due timers in due-time order (ties by creation order). */
  advance(deltaMs: number): void {
    const endMs = this.timeMs + deltaMs;
    for (;;) {
      let due: [number, { atMs: number; callback: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].atMs <= endMs && (due === undefined || entry[1].atMs < due[1].atMs)) due = entry;
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.timeMs = due[1].atMs;
      due[1].callback();
    }
    this.timeMs = endMs;
  }

  /** Timers not fired yet. */
  get pendingTimers(): number {
    return this.timers.size;
  }
}

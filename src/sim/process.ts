/**
 * The life of one simulated process, the same for Tidelog's nodes and a
 * target's: down, starting, up, paused; an incarnation number that voids the
 * timers and pending work of an earlier life; a wall clock that is virtual time
 * plus the node's skew and jumps; work that waits out a pause.
 */
import type { Clock } from '../core/clock.js';

/** What a process needs from the run loop. */
export interface ProcessHost {
  now(): number;
  schedule(atMs: number, run: () => void): void;
}

/** The states of a process. `starting`: its replica is being opened (deliveries are lost, as when down). */
export type ProcessState = 'up' | 'down' | 'paused' | 'starting';

/** One simulated process; a harness's node extends it with what runs inside. */
export abstract class SimProcess {
  state: ProcessState = 'down';
  /** Bumped by every start and every crash: work started by an earlier incarnation is void. */
  incarnation = 0;
  /** Wall clock offset from virtual time, ms (skew and jumps). */
  skewMs = 0;
  /** The process's wall clock. */
  readonly clock: Clock;
  private pausedWork: (() => void)[] = [];

  constructor(
    readonly index: number,
    protected readonly host: ProcessHost,
  ) {
    this.clock = { now: () => Math.max(0, Math.floor(host.now() + this.skewMs)) };
  }

  /** `n3` for reports. */
  get name(): string {
    return `n${this.index}`;
  }

  /** Begins a new incarnation; returns its number (compare it after each await: a crash may have come). */
  protected beginStart(): number {
    this.incarnation += 1;
    this.state = 'starting';
    return this.incarnation;
  }

  /**
   * Ends the process (a power loss): its timers and paused work die with the incarnation.
   * @returns false when it was already down.
   */
  protected endProcess(): boolean {
    if (this.state === 'down') return false;
    this.incarnation += 1;
    this.state = 'down';
    this.pausedWork = [];
    return true;
  }

  /** Runs `work` now, or at resume when paused; drops it when down or starting. */
  whenRunning(work: () => void): void {
    if (this.state === 'paused') this.pausedWork.push(work);
    else if (this.state === 'up') work();
  }

  /** Freezes the process: deliveries and timers wait, writes are not issued. */
  pause(): void {
    if (this.state === 'up') this.state = 'paused';
  }

  /** Unfreezes the process and runs what waited, in order. */
  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'up';
    const work = this.pausedWork;
    this.pausedWork = [];
    for (const item of work) if (this.state === 'up') item();
  }

  /** Runs `callback` after `delayMs` of virtual time, unless this incarnation ended first; waits out a pause. */
  timer(delayMs: number, callback: () => void): () => void {
    const incarnation = this.incarnation;
    let cancelled = false;
    this.host.schedule(this.host.now() + delayMs, () => {
      if (cancelled || incarnation !== this.incarnation) return;
      this.whenRunning(callback);
    });
    return () => {
      cancelled = true;
    };
  }
}

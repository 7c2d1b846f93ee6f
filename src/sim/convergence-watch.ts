/**
 * Convergence after the final heal, measured the same way for Tidelog and for
 * pluggable targets: from the heal to the first moment every replica agrees,
 * then held while the protocol goes quiet and stale frames land. A replica
 * set that drifts apart again restarts the measurement from there.
 */
import type { TraceEvent } from './trace.js';

/** How long the run took to converge after the final heal. */
export interface ConvergenceMeasure {
  /** Virtual ms from the final heal to the moment every replica agreed. */
  readonly ms: number;
  /** Frames sent in that time. */
  readonly messages: number;
  /** Bytes sent in that time. */
  readonly bytes: number;
}

/** What the watch needs from a run. */
export interface ConvergenceHost {
  now(): number;
  schedule(atMs: number, run: () => void): void;
  emit(event: TraceEvent): void;
  /** Every replica up and in agreement (equal vectors and states, or whatever the run compares). */
  isConverged(): boolean;
  /** Ends the run's event loop. */
  stop(): void;
}

/** The network counters the measurement reads. */
export interface ConvergenceTraffic {
  readonly counters: { readonly framesSent: number; readonly bytesSent: number };
  /** Frames carrying data still scheduled for delivery. */
  readonly dataInFlight: number;
}

/** Timing knobs, from the run's options. */
export interface ConvergenceTiming {
  readonly healAtMs: number;
  readonly livenessBudgetMs: number;
  readonly antiEntropyIntervalMs: number;
  readonly delayMsMax: number;
}

/** Polls for convergence after the final heal and records when it came and what it cost. */
export class ConvergenceWatch {
  /** Virtual time convergence was first seen (and held since), if it was. */
  convergedAtMs: number | undefined;
  /** Time, frames and bytes from the heal to convergence. */
  convergence: ConvergenceMeasure | undefined;
  private atHeal = { frames: 0, bytes: 0 };

  constructor(
    private readonly host: ConvergenceHost,
    private readonly traffic: ConvergenceTraffic,
    private readonly timing: ConvergenceTiming,
  ) {}

  /** Call at the final heal, once faults are off and every node is on its way back. */
  start(): void {
    this.atHeal = { frames: this.traffic.counters.framesSent, bytes: this.traffic.counters.bytesSent };
    this.host.schedule(this.host.now() + 1, () => this.poll());
  }

  private poll(): void {
    const nowMs = this.host.now();
    if (this.host.isConverged()) {
      this.convergedAtMs = nowMs;
      this.convergence = {
        ms: nowMs - this.timing.healAtMs,
        messages: this.traffic.counters.framesSent - this.atHeal.frames,
        bytes: this.traffic.counters.bytesSent - this.atHeal.bytes,
      };
      this.host.emit({ kind: 'converged', afterMs: this.convergence.ms });
      this.host.schedule(nowMs + 2 * this.timing.antiEntropyIntervalMs + this.timing.delayMsMax + 1, () => this.confirmQuiet());
      return;
    }
    if (nowMs >= this.deadlineMs()) {
      this.host.emit({ kind: 'liveness-exhausted' });
      this.host.stop();
      return;
    }
    this.host.schedule(nowMs + 5, () => this.poll());
  }

  /** Converged replicas must stay converged until no data frame is in flight (within the liveness budget). */
  private confirmQuiet(): void {
    if (this.host.isConverged()) {
      if (this.traffic.dataInFlight === 0 || this.host.now() >= this.deadlineMs()) this.host.stop();
      else this.host.schedule(this.host.now() + 50, () => this.confirmQuiet());
      return;
    }
    this.host.emit({ kind: 'diverged' });
    this.convergedAtMs = undefined;
    this.convergence = undefined;
    this.poll();
  }

  private deadlineMs(): number {
    return this.timing.healAtMs + this.timing.livenessBudgetMs;
  }
}

/**
 * One simulated device running a target: its durable log (kept by the
 * harness), and while it runs, the adapter's replica. A crash abandons the
 * replica and every append not yet durable; a restart opens the target again
 * from the durable chunks under a new replica id.
 */
import type { Clock } from '../../core/clock.js';
import { randomReplicaId } from '../../core/random.js';
import type { Prng } from '../prng.js';
import { stateJson } from './checks.js';
import type { CrdtTarget, DurableLog, TargetReplica } from './target.js';

/** What a target node needs from the run loop. */
export interface TargetNodeHost {
  now(): number;
  schedule(atMs: number, run: () => void): void;
  /** Set when an event resolves promises, so the loop lets the work finish before the next event. */
  asyncStarted: boolean;
  readonly fsyncMsMax: number;
}

/** A simulated device of a target run. */
export class TargetNode {
  state: 'up' | 'down' | 'paused' | 'starting' = 'down';
  /** Restart count; work started by an earlier incarnation is void. */
  incarnation = 0;
  replica: TargetReplica | undefined;
  replicaId = '';
  /** The chunks that survived on disk, oldest first. */
  readonly durable: Uint8Array[] = [];
  /** Wall clock offset from virtual time, ms (skew and jumps). */
  skewMs = 0;
  readonly clock: Clock;
  /** The last summary each peer sent (for pushing new writes to it). */
  private lastDurableAtMs = 0;
  private pausedWork: (() => void)[] = [];
  private cachedState: { json: string; map: Map<string, unknown> } | undefined;

  constructor(
    readonly index: number,
    private readonly target: CrdtTarget,
    private readonly host: TargetNodeHost,
    private readonly prng: Prng,
  ) {
    this.clock = { now: () => Math.max(0, Math.floor(host.now() + this.skewMs)) };
  }

  /** `n3` for traces. */
  get name(): string {
    return `n${this.index}`;
  }

  /** Opens the target from the durable chunks under a new replica id; resolves true when this incarnation is up. */
  async start(): Promise<boolean> {
    this.incarnation += 1;
    const incarnation = this.incarnation;
    this.state = 'starting';
    this.replicaId = randomReplicaId(this.prng);
    const replica = await this.target.open({ replicaId: this.replicaId, clock: this.clock, random: this.prng, durable: [...this.durable], log: this.log(incarnation) });
    if (incarnation !== this.incarnation) return false;
    this.replica = replica;
    this.state = 'up';
    this.changed();
    return true;
  }

  /** The durable log of one incarnation: an append becomes durable after a drawn fsync delay, in append order. */
  private log(incarnation: number): DurableLog {
    return {
      append: (chunk) =>
        new Promise<void>((resolve) => {
          const atMs = Math.max(this.host.now() + this.prng.int(this.host.fsyncMsMax + 1), this.lastDurableAtMs);
          this.lastDurableAtMs = atMs;
          this.host.schedule(atMs, () => {
            // A crash in between: the append never completes, and its promise never resolves.
            if (incarnation !== this.incarnation) return;
            this.durable.push(chunk.slice());
            this.host.asyncStarted = true;
            resolve();
          });
        }),
    };
  }

  /** Loses power: memory and pending appends are gone; the durable chunks stay. */
  crash(): void {
    if (this.state === 'down') return;
    this.incarnation += 1;
    this.state = 'down';
    this.pausedWork = [];
    this.replica?.crash?.();
    this.replica = undefined;
    this.changed();
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

  /** Runs `work` now, or at resume when paused; drops it when down. */
  whenRunning(work: () => void): void {
    if (this.state === 'paused') this.pausedWork.push(work);
    else if (this.state === 'up') work();
  }

  /** Forgets the cached state (after a write, a merge, a crash or a start). */
  changed(): void {
    this.cachedState = undefined;
  }

  /** The replica's state (cached until it changes), or undefined when not running. */
  stateNow(): { json: string; map: Map<string, unknown> } | undefined {
    if (this.replica === undefined || this.state === 'down' || this.state === 'starting') return undefined;
    if (this.cachedState === undefined) {
      const map = new Map<string, unknown>([...this.replica.read()].map(([k, v]) => [k, v] as [string, unknown]));
      this.cachedState = { json: stateJson(map), map };
    }
    return this.cachedState;
  }
}

/**
 * One simulated device running a target: its durable log (kept by the
 * harness), and while it runs, the adapter's replica. A crash abandons the
 * replica and every append not yet durable; a restart opens the target again
 * from the durable chunks under a new replica id. The life cycle itself
 * (incarnations, pause, skewed clock) is the kernel's {@link SimProcess}.
 */
import { randomReplicaId } from '../../core/random.js';
import { type ProcessHost, SimProcess } from '../process.js';
import type { Prng } from '../prng.js';
import { stateJson } from '../state-diff.js';
import type { CrdtTarget, DurableLog, TargetReplica } from './target.js';

/** What a target node needs from the run loop. */
export interface TargetNodeHost extends ProcessHost {
  /** Set when an event resolves promises, so the loop lets the work finish before the next event. */
  asyncStarted: boolean;
  readonly fsyncMsMax: number;
  /** The most a node's clock is off virtual time in this run. */
  readonly clockErrorMsMax: number;
}

/** A simulated device of a target run. */
export class TargetNode extends SimProcess {
  replica: TargetReplica | undefined;
  replicaId = '';
  /** The chunks that survived on disk, oldest first. */
  readonly durable: Uint8Array[] = [];
  /** Virtual time the last append becomes durable: appends become durable in order. */
  private lastDurableAtMs = 0;
  private cachedState: { json: string; map: Map<string, unknown> } | undefined;

  constructor(
    index: number,
    private readonly target: CrdtTarget,
    protected override readonly host: TargetNodeHost,
    private readonly prng: Prng,
  ) {
    super(index, host);
  }

  /** Opens the target from the durable chunks under a new replica id; resolves true when this incarnation is up. */
  async start(): Promise<boolean> {
    const incarnation = this.beginStart();
    this.replicaId = randomReplicaId(this.prng);
    const replica = await this.target.open({ replicaId: this.replicaId, clock: this.clock, clockErrorMsMax: this.host.clockErrorMsMax, random: this.prng, durable: [...this.durable], log: this.log(incarnation) });
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
    if (!this.endProcess()) return;
    this.replica?.crash?.();
    this.replica = undefined;
    this.changed();
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

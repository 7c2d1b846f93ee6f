/**
 * The simulated network: one broadcast room whose every directed link has its
 * own delays. Frames can be dropped, duplicated, delayed (with a slow tail),
 * reordered (when `reorder` is on; otherwise each link is FIFO), blocked by
 * partitions (symmetric, one-way, one node isolated) and replayed long after.
 */
import type { SimOptions } from './options.js';
import { faultOn } from './options.js';
import type { Prng } from './prng.js';

/** What the network needs from the simulator. */
export interface NetworkHost {
  now(): number;
  schedule(atMs: number, run: () => void): void;
  /** Hands a frame to node `to` (which may be down or paused); `sentAtMs`: when it was sent (for a replay, its original send time). */
  deliver(from: number, to: number, bytes: Uint8Array, replayed: boolean, sentAtMs: number): void;
}

/**
 * What the network did. A frame is sent once, to every other node: `framesSent` and `bytesSent` count frames,
 * the others count copies on links (one per receiver), so with N nodes up to N - 1 copies per frame are due.
 */
export interface NetworkCounters {
  /** Frames broadcast (per frame). */
  framesSent: number;
  /** Bytes of the frames broadcast (per frame). */
  bytesSent: number;
  /** Copies handed to their receiver (per delivery, duplicates included, replays not). */
  framesDelivered: number;
  /** Copies lost to a drop or a partition (per delivery). */
  framesDropped: number;
  /** Copies delivered twice (per delivery). */
  framesDuplicated: number;
  /** Old frames delivered again to one node each (per delivery). */
  framesReplayed: number;
}

const REPLAY_RING_FRAMES = 256;

/** The room and its links. */
export class SimNetwork {
  /** Faults on (the safety phase); off after the final heal. */
  faultsOn = true;
  /** Copies of frames that carry data scheduled and not delivered yet (the sender says which carry data). */
  dataInFlight = 0;
  readonly counters: NetworkCounters = { framesSent: 0, bytesSent: 0, framesDelivered: 0, framesDropped: 0, framesDuplicated: 0, framesReplayed: 0 };
  /** blocked[from * n + to]: frames on that link are lost. */
  private readonly blocked: Uint8Array;
  private readonly lastAtMs: Float64Array;
  private readonly old: { from: number; bytes: Uint8Array; sentAtMs: number }[] = [];
  private oldNext = 0;
  private readonly n: number;
  private readonly fifo: boolean;
  private readonly keepOld: boolean;

  constructor(
    private readonly options: SimOptions,
    private readonly prng: Prng,
    private readonly host: NetworkHost,
  ) {
    this.n = options.replicas;
    this.blocked = new Uint8Array(this.n * this.n);
    this.lastAtMs = new Float64Array(this.n * this.n);
    this.fifo = !faultOn(options, 'reorder');
    this.keepOld = faultOn(options, 'replay');
  }

  /** Sends a frame from `from` to every other node; `carriesData`: false for frames without data (hellos, summaries). */
  broadcast(from: number, bytes: Uint8Array, carriesData: boolean): void {
    this.counters.framesSent += 1;
    this.counters.bytesSent += bytes.length;
    if (this.keepOld) this.remember(from, bytes);
    const faults = this.faultsOn;
    const o = this.options;
    for (let to = 0; to < this.n; to++) {
      if (to === from) continue;
      const link = from * this.n + to;
      if (this.blocked[link] === 1 || (faults && o.dropProbability > 0 && faultOn(o, 'drop') && this.prng.chance(o.dropProbability))) {
        this.counters.framesDropped += 1;
        continue;
      }
      const copies = faults && faultOn(o, 'duplicate') && this.prng.chance(o.duplicateProbability) ? 2 : 1;
      if (copies === 2) this.counters.framesDuplicated += 1;
      for (let c = 0; c < copies; c++) this.schedule(from, to, link, bytes, carriesData);
    }
  }

  private schedule(from: number, to: number, link: number, bytes: Uint8Array, data: boolean): void {
    const o = this.options;
    let delayMs = o.delayMsMin + this.prng.int(o.delayMsMax - o.delayMsMin + 1);
    if (this.faultsOn && faultOn(o, 'slow') && this.prng.chance(o.slowTailProbability)) delayMs += this.prng.int(o.slowTailMsMax);
    let atMs = this.host.now() + delayMs;
    if (this.fifo) {
      atMs = Math.max(atMs, this.lastAtMs[link] as number);
      this.lastAtMs[link] = atMs;
    }
    const sentAtMs = this.host.now();
    if (data) this.dataInFlight += 1;
    this.host.schedule(atMs, () => {
      if (data) this.dataInFlight -= 1;
      this.counters.framesDelivered += 1;
      this.host.deliver(from, to, bytes, false, sentAtMs);
    });
  }

  private remember(from: number, bytes: Uint8Array): void {
    const entry = { from, bytes, sentAtMs: this.host.now() };
    if (this.old.length < REPLAY_RING_FRAMES) this.old.push(entry);
    else this.old[this.oldNext] = entry;
    this.oldNext = (this.oldNext + 1) % REPLAY_RING_FRAMES;
  }

  /** Delivers `count` old frames again, each to one random node: messages replayed long after. */
  replayOld(count: number): void {
    for (let i = 0; i < count && this.old.length > 0; i++) {
      const frame = this.prng.pick(this.old);
      let to = this.prng.int(this.n - 1);
      if (to >= frame.from) to += 1;
      this.counters.framesReplayed += 1;
      this.host.deliver(frame.from, to, frame.bytes, true, frame.sentAtMs);
    }
  }

  /** Blocks links: `split` both ways between A and the rest, `oneway` only A -> rest, `isolate` both ways around A. */
  partition(shape: 'split' | 'oneway' | 'isolate', groupA: readonly number[]): void {
    this.heal();
    const inA = new Uint8Array(this.n);
    for (const node of groupA) if (node < this.n) inA[node] = 1;
    for (let from = 0; from < this.n; from++) {
      for (let to = 0; to < this.n; to++) {
        if (from === to || inA[from] === inA[to]) continue;
        if (shape === 'oneway' && inA[from] !== 1) continue;
        this.blocked[from * this.n + to] = 1;
      }
    }
  }

  /** Unblocks every link. */
  heal(): void {
    this.blocked.fill(0);
  }
}

/**
 * The simulated network: one broadcast room whose every directed link has its
 * own delays. Frames can be dropped, duplicated, delayed (with a slow tail),
 * reordered (when `reorder` is on; otherwise each link is FIFO), blocked by
 * partitions (symmetric, one-way, one node isolated) and replayed long after.
 */
import type { Transport, TransportListener } from '../sync/transport.js';
import type { SimOptions } from './options.js';
import { faultOn } from './options.js';
import type { Prng } from './prng.js';

/** What the network needs from the simulator. */
export interface NetworkHost {
  now(): number;
  schedule(atMs: number, run: () => void): void;
  trace(line: string): void;
  /** Hands a frame to node `to` (which may be down or paused). */
  /** `sentAtMs`: when the frame was sent (for a replay, its original send time). */
  deliver(from: number, to: number, bytes: Uint8Array, replayed: boolean, sentAtMs: number): void;
}

/** Counters the convergence measurement reads. */
export interface NetworkCounters {
  framesSent: number;
  bytesSent: number;
  framesDelivered: number;
  framesDropped: number;
  framesDuplicated: number;
  framesReplayed: number;
}

const REPLAY_RING_FRAMES = 256;

/** The room and its links. */
export class SimNetwork {
  /** Faults on (the safety phase); off after the final heal. */
  faultsOn = true;
  /** Ops and snapshot frames scheduled and not delivered yet (hellos excluded: they carry no ops). */
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

  /** Sends a frame from `from` to every other node. */
  broadcast(from: number, bytes: Uint8Array): void {
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
      for (let c = 0; c < copies; c++) this.schedule(from, to, link, bytes);
    }
  }

  private schedule(from: number, to: number, link: number, bytes: Uint8Array): void {
    const o = this.options;
    let delayMs = o.delayMsMin + this.prng.int(o.delayMsMax - o.delayMsMin + 1);
    if (this.faultsOn && faultOn(o, 'slow') && this.prng.chance(o.slowTailProbability)) delayMs += this.prng.int(o.slowTailMsMax);
    let atMs = this.host.now() + delayMs;
    if (this.fifo) {
      atMs = Math.max(atMs, this.lastAtMs[link] as number);
      this.lastAtMs[link] = atMs;
    }
    const sentAtMs = this.host.now();
    const data = bytes[1] !== 1;
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

/** The {@link Transport} a simulated node's sync session uses. */
export class SimTransport implements Transport {
  private listener: TransportListener | undefined;
  private up = false;

  constructor(
    private readonly network: SimNetwork,
    private readonly node: number,
  ) {}

  get connected(): boolean {
    return this.up;
  }

  send(bytes: Uint8Array): void {
    if (this.up) this.network.broadcast(this.node, bytes);
  }

  listen(listener: TransportListener): void {
    this.listener = listener;
    if (this.up) listener.up();
  }

  /** Brings the link up (a process start) or down. */
  setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    if (up) this.listener?.up();
    else this.listener?.down();
  }

  /** Hands a delivered frame to the session. */
  receive(bytes: Uint8Array): void {
    if (this.up) this.listener?.frame(bytes);
  }

  async close(): Promise<void> {
    this.up = false;
    this.listener = undefined;
  }
}

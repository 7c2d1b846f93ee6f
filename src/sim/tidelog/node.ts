/**
 * One simulated Tidelog device: a medium (its disk), and while it runs, a
 * replica, a sync session and a transport. Crashing throws the process away
 * (memory lost, unsynced writes lost or torn); restarting recovers from the
 * medium. The life cycle itself (incarnations, pause, skewed clock) is the
 * kernel's {@link SimProcess}.
 */
import { type Op, compareOps } from '../../core/op.js';
import { randomReplicaId } from '../../core/random.js';
import { Replica } from '../../core/replica.js';
import type { Scheduler } from '../../sync/scheduler.js';
import { SyncSession } from '../../sync/session.js';
import { decodeMessage, type SyncMessage } from '../../sync/messages.js';
import { DecodeError } from '../../core/errors.js';
import { driftBoundMs, type SimOptions } from '../options.js';
import type { Prng } from '../prng.js';
import { SimMedium, SimStorage, type RecoveryReport } from './storage.js';
import type { SimNetwork } from '../network.js';
import { type ProcessHost, SimProcess } from '../process.js';
import { SimTransport } from './transport.js';

const decoded = new WeakMap<Uint8Array, SyncMessage | DecodeError>();

/** Decodes a frame once for all its receivers: the network hands every receiver the same bytes object. */
function sharedDecode(frame: Uint8Array): SyncMessage {
  let message = decoded.get(frame);
  if (message === undefined) {
    try {
      message = decodeMessage(frame);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      message = error;
    }
    decoded.set(frame, message);
  }
  if (message instanceof DecodeError) throw message;
  return message;
}

/** What a node needs from the simulator. */
export interface NodeHost extends ProcessHost {
  /** Set when an event resolves or starts promise work, so the loop lets it finish. */
  asyncStarted: boolean;
  /** Told about every op this node commits or merges, in commit order. */
  onCommit(node: SimNode, origin: 'local' | 'remote', ops: readonly Op[]): void;
  onSyncError(node: SimNode, code: string, message: string): void;
  /** Told when the node's replica appeared or went away (a start, a crash): what checks at every event look at changed. */
  onNodeChanged(node: SimNode): void;
}

/** A simulated device. */
export class SimNode extends SimProcess {
  medium = new SimMedium();
  replica: Replica | undefined;
  session: SyncSession | undefined;
  readonly transport: SimTransport;
  /** The replica id this device writes under (changes on a safe restore or a new-id wipe). */
  replicaId: string;
  /** Each key's winning op as this node has seen it (for the causal checker). */
  view = new Map<string, Op>();
  /** Arrival-order state: what the deliberately broken `arrival-order` target would show. */
  arrival = new Map<string, Op>();
  backup: SimMedium | undefined;
  lastRecovery: RecoveryReport | undefined;
  /** Bumped whenever this node's replica, vector or state may have changed (a commit, a merge, a start, a crash). */
  changes = 0;
  private readonly tracksArrival: boolean;

  constructor(
    index: number,
    private readonly options: SimOptions,
    protected override readonly host: NodeHost,
    network: SimNetwork,
    private readonly prng: Prng,
  ) {
    super(index, host);
    this.transport = new SimTransport(network, index);
    this.tracksArrival = options.bug === 'arrival-order';
    this.replicaId = randomReplicaId(prng);
  }

  /** Starts the process: recovers the medium, opens the replica, starts syncing. */
  async start(): Promise<void> {
    const incarnation = this.beginStart();
    const storage = new SimStorage(this.medium, {
      afterFsync: (callback) =>
        this.host.schedule(this.host.now() + this.prng.int(this.options.fsyncMsMax + 1), () => {
          this.host.asyncStarted = true;
          callback();
        }),
      ackBeforeSync: this.options.bug === 'ack-before-sync',
    });
    let replica: Replica;
    try {
      replica = await Replica.open({ replicaId: this.replicaId, storage, clock: this.clock, random: this.prng, maxDriftMs: driftBoundMs(this.options) });
    } catch (error) {
      if (incarnation === this.incarnation) this.state = 'down'; // a failed start leaves the device down, for the final heal to retry
      throw error;
    }
    if (incarnation !== this.incarnation) return;
    // A replica that finds its id forged or reused moves to a fresh one (and writes it to storage): reopen under it.
    replica.subscribeAlerts((alert) => {
      if (alert.type === 'identity-rotated' && incarnation === this.incarnation) this.replicaId = alert.to;
    });
    this.lastRecovery = storage.recovery;
    this.replica = replica;
    this.view = new Map();
    this.arrival = new Map();
    for (const op of replica.opsSince({})) this.observe(op);
    // Ops only (no per-key change records); subscribed before the session, so it still hears each commit first.
    replica.subscribeOps((event) => {
      for (const op of event.ops) this.observe(op);
      this.changes += 1;
      this.host.onCommit(this, event.origin, event.ops);
    });
    const repair = this.options.bug !== 'no-repair';
    this.session = new SyncSession(replica, this.transport, {
      scheduler: this.scheduler(),
      batchOpsMax: this.options.sessionBatchOpsMax,
      batchBytesMax: this.options.sessionBatchBytesMax,
      antiEntropyIntervalMs: repair ? this.options.antiEntropyIntervalMs : 0,
      helloBackoffMs: repair ? Math.min(100, this.options.antiEntropyIntervalMs) : 1e15,
      // About two round trips of the simulated network: what a real client would estimate from its RTT.
      resendAfterMs: 4 * this.options.delayMsMax + 20,
      decode: sharedDecode,
      onError: (error) => this.host.onSyncError(this, error.code, error.message),
    });
    this.state = 'up';
    this.changes += 1;
    this.host.onNodeChanged(this);
    this.session.start();
    this.transport.setUp(true);
  }

  private observe(op: Op): void {
    const seen = this.view.get(op.key);
    if (seen === undefined || compareOps(op, seen) > 0) this.view.set(op.key, op);
    // Only the deliberately broken target shows arrival order: other runs skip a map write per op.
    if (this.tracksArrival) this.arrival.set(op.key, op);
  }

  /** The session's scheduler: virtual time; timers die with the process and wait while it is paused. */
  private scheduler(): Scheduler {
    return { now: () => this.host.now(), setTimer: (delayMs, callback) => this.timer(delayMs, callback) };
  }

  /** Loses power: the process and its memory are gone; the medium keeps synced records (and maybe a torn one). */
  crash(torn: boolean): void {
    if (!this.endProcess()) return;
    this.transport.setUp(false);
    void this.session?.stop();
    this.session = undefined;
    this.replica = undefined; // abandoned, never closed: a dead process flushes nothing
    this.medium.crash(torn, this.prng);
    this.changes += 1;
    this.host.onNodeChanged(this);
  }

  /** The visible state as the target reports it (`arrival-order` is the deliberately broken one). */
  entries(): string {
    if (this.replica === undefined) return '';
    if (this.options.bug === 'arrival-order') {
      const out: [string, unknown][] = [];
      for (const key of [...this.arrival.keys()].sort()) {
        const op = this.arrival.get(key) as Op;
        if (op.type === 'set') out.push([key, op.value]);
      }
      return JSON.stringify(out);
    }
    return JSON.stringify(this.replica.entries());
  }
}

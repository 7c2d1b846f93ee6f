/**
 * The simulator: one seed, one virtual clock, one event queue. It builds the
 * nodes and the network, schedules the plan (workload and faults), runs the
 * safety phase, heals everything, then the liveness phase until the replicas
 * converge (or the budget runs out), and hands the oracle to the checkers.
 *
 * Async code (the replica's promise-based commit path) is driven
 * deterministically: after every event that started promise work the loop waits
 * until the microtask queue is empty (`settle`). No real timer or I/O runs
 * inside a simulation, so nothing else can interleave.
 */
import { type Op, opIdString } from '../../core/op.js';
import { randomReplicaId } from '../../core/random.js';
import { Replica } from '../../core/replica.js';
import { type VersionVector, vvCovers, vvEqual } from '../../core/version-vector.js';
import { checkEqualVectors, runCheckers } from './checkers/index.js';
import { History, } from './history.js';
import { type NodeHost, SimNode } from './node.js';
import type { SimOptions } from '../options.js';
import type { Action, } from '../plan.js';
import { Prng } from '../prng.js';
import { SimMedium, SimStorage } from './storage.js';
import { settle } from '../settle.js';
import { type RunOutcome, SimRun, type SimRunHooks } from '../sim-run.js';

export type { ConvergenceMeasure } from '../convergence-watch.js';

/** Everything one run produced. */
export interface SimResult extends RunOutcome {
  readonly opsCommitted: number;
  readonly writesAcked: number;
  /** Op ids used twice with different content, and how many conflicts the sessions reported. */
  readonly idReuse: { readonly reused: number; readonly detected: number };
  /** Malformed or corrupt inputs the sessions and recoveries rejected. */
  readonly rejected: { readonly framesMalformed: number; readonly recordsDropped: number };
}

/** Optional hooks of a run. */
export interface RunHooks extends SimRunHooks {
  /** Called every few thousand events with the fraction of virtual time done. */
  readonly onProgress?: (fraction: number, events: number) => void;
}


/** Runs one simulation. */
export async function runSimulation(options: SimOptions, hooks: RunHooks = {}): Promise<SimResult> {
  const sim = new Simulation(options, hooks);
  return sim.run();
}

class Simulation extends SimRun<SimNode> implements NodeHost {
  private readonly history = new History();
  private readonly nodePrng: Prng;
  private framesMalformed = 0;
  private recordsDropped = 0;

  constructor(
    options: SimOptions,
    private readonly hooks: RunHooks,
  ) {
    super(options, hooks);
    this.nodePrng = new Prng(options.seed, 'nodes');
    this.addNodes((i) => new SimNode(i, options, this, this.network, this.nodePrng));
  }

  // ---- NodeHost -------------------------------------------------------------

  onCommit(node: SimNode, origin: 'local' | 'remote', ops: readonly Op[]): void {
    if (origin === 'local') this.history.recordCommitted(ops);
    else this.history.recordMerged(ops);
    this.traceLine(`${origin === 'local' ? 'commit' : 'merge'} ${node.name} ${ops.length} ops ${opIdString(ops[0] as Op)}..`);
  }

  onSyncError(node: SimNode, code: string, message: string): void {
    if (code === 'OP_ID_CONFLICT') this.history.conflictsDetected += 1;
    if (code === 'DECODE_FAILED') this.framesMalformed += 1;
    this.traceLine(`sync-error ${node.name} ${code} ${message.slice(0, 80)}`);
  }

  // ---- the loop -------------------------------------------------------------

  async run(): Promise<SimResult> {
    for (const node of this.nodes) await node.start();
    for (const action of this.plan.actions) this.schedule(action.atMs, () => this.perform(action));
    this.schedule(this.plan.healAtMs, () => this.finalHeal());
    this.scheduleVvCheck(this.options.vvCheckIntervalMs);
    const progressEvery = 20_000;
    while (!this.stopped) {
      const run = this.queue.popRun();
      if (run === undefined) break;
      this.nowMs = this.queue.lastAtMs;
      this.events += 1;
      run();
      // Only events that started promise work need the wait (`settle`) that lets it finish.
      if (this.asyncStarted) {
        this.asyncStarted = false;
        await settle();
      }
      if (this.hooks.onProgress !== undefined && this.events % progressEvery === 0) {
        this.hooks.onProgress(Math.min(1, this.nowMs / (this.plan.healAtMs + 1)), this.events);
      }
    }
    for (const node of this.nodes) await node.session?.stop();
    // With an op id reused (and reported), equal vectors no longer imply equal ops: checker 6 does not apply.
    const reuse = this.history.reusedIds.length > 0 && this.history.reuseExpected && this.history.conflictsDetected > 0;
    const violations = reuse ? [] : [...this.history.violations];
    violations.push(...runCheckers({ options: this.options, nodes: this.nodes, history: this.history, healAtMs: this.plan.healAtMs, convergedAtMs: this.watch.convergedAtMs, nowMs: this.nowMs }));
    return {
      ...this.outcome(violations),
      opsCommitted: this.history.committed.size,
      writesAcked: this.history.acked.length,
      idReuse: { reused: this.history.reusedIds.length, detected: this.history.conflictsDetected },
      rejected: { framesMalformed: this.framesMalformed, recordsDropped: this.recordsDropped },
    };
  }

  protected deliver(from: number, to: number, bytes: Uint8Array, replayed: boolean, sentAtMs: number): void {
    const node = this.nodes[to] as SimNode;
    if (node.state === 'down') return;
    // A hello is answered synchronously; ops and snapshot frames start a merge, unless the session will
    // ignore them (they are meant for another replica) or the node is paused (the frame waits for resume).
    if (bytes[1] !== 1 && node.state === 'up' && node.mayMerge(bytes)) this.asyncStarted = true;
    this.traceLine(`${replayed ? 'replay' : 'deliver'} n${from}>n${to} t${bytes[1]} ${bytes.length}B sent ${sentAtMs}`);
    // Most deliveries find the node up: only a paused node needs the frame wrapped for later.
    if (node.state === 'up') node.transport.receive(bytes);
    else node.whenRunning(() => node.transport.receive(bytes));
  }

  // ---- actions --------------------------------------------------------------

  private perform(action: Action): void {
    this.asyncStarted = true;
    if (action.kind === 'write') {
      this.write(action.node, action.writes);
      return;
    }
    this.recordFault(action);
    switch (action.kind) {
      case 'crash':
        this.nodeAt(action.node).crash(action.torn);
        break;
      case 'restart':
        this.restart(this.nodeAt(action.node));
        break;
      case 'pause':
        this.nodeAt(action.node).pause();
        break;
      case 'resume':
        this.nodeAt(action.node).resume();
        break;
      case 'clock-jump':
        this.nodeAt(action.node).skewMs += action.deltaMs;
        break;
      case 'partition':
        this.network.partition(action.shape, action.groupA);
        break;
      case 'heal':
        this.network.heal();
        break;
      case 'bitflip':
        if (!this.nodeAt(action.node).medium.flipBit(this.nodePrng)) this.traceLine('bitflip: empty medium');
        break;
      case 'replay':
        this.network.replayOld(action.count);
        break;
      case 'backup':
        this.nodeAt(action.node).backup = this.nodeAt(action.node).medium.clone();
        break;
      case 'restore':
        this.guard(this.restore(this.nodeAt(action.node)));
        break;
      case 'wipe':
        this.guard(this.wipe(this.nodeAt(action.node)));
        break;
      case 'compact': {
        const node = this.nodeAt(action.node);
        if (node.state === 'up') node.replica?.compact({ retainOps: action.retainOps }).then(
          (result) => this.traceLine(`compacted ${node.name} ${result.compactedOps} ops`),
          () => {},
        );
        break;
      }
      default:
        throw new Error(`unknown action ${(action as { kind: string }).kind}`);
    }
  }

  /** Async fault handling must never take the process down: a failure there is a violation of its own. */
  private guard(work: Promise<unknown>): void {
    work.catch((error: unknown) => {
      this.traceLine(`sim-error ${(error as Error).message}`);
      this.history.violations.push({ checker: 'simulator', message: `fault handling failed: ${(error as Error).message}`, atMs: this.nowMs, excerpt: this.trace.tail().slice(-16) });
    });
  }

  private nodeAt(index: number): SimNode {
    return this.nodes[index % this.nodes.length] as SimNode;
  }

  private write(index: number, writes: readonly { readonly key: string; readonly value?: number }[]): void {
    const node = this.nodeAt(index);
    const replica = node.replica;
    if (node.state !== 'up' || replica === undefined) return;
    const observed = new Map<string, Op | undefined>();
    for (const w of writes) if (!observed.has(w.key)) observed.set(w.key, node.view.get(w.key));
    this.traceLine(`write ${node.name} ${writes.map((w) => (w.value === undefined ? `-${w.key}` : `${w.key}=${w.value}`)).join(',')}`);
    const first = writes[0] as { key: string; value?: number };
    const promise: Promise<Op | Op[]> =
      writes.length > 1
        ? replica.batch(writes.map((w) => (w.value === undefined ? { type: 'delete' as const, key: w.key } : { type: 'set' as const, key: w.key, value: w.value })))
        : first.value === undefined
          ? replica.delete(first.key)
          : replica.set(first.key, first.value);
    promise.then(
      (result) => {
        for (const op of Array.isArray(result) ? result : [result]) {
          this.history.acked.push({ op, node: node.index, ackAtMs: this.nowMs, observed: observed.get(op.key) });
        }
        this.traceLine(`ack ${node.name} ${Array.isArray(result) ? result.length : 1}`);
      },
      (error: unknown) => this.traceLine(`write-failed ${node.name} ${(error as Error).message.slice(0, 60)}`),
    );
  }

  /**
   * Restarts a crashed device. Recovery keeps the valid prefix of its log; if it
   * dropped anything, ops this device already sent may be gone from it (a bit flip
   * can look exactly like a torn tail), so it must not write under its old id
   * again: it comes back under a new id with what survived.
   */
  protected restart(node: SimNode): void {
    if (node.state !== 'down') return;
    const { report } = node.medium.recover();
    if (report.droppedRecords > 0) {
      this.recordsDropped += report.droppedRecords;
      this.traceLine(`recovered ${node.name} dropped ${report.droppedRecords} records (${report.reason})`);
      // Even a "torn" last record may be a synced one whose length field flipped: recovery cannot tell them
      // apart, and a synced record's ops may have been sent. Writing on under the old id could reuse their seqs.
      this.guard(this.reincarnate(node, node.medium));
      return;
    }
    this.guard(node.start());
  }

  /** Brings `node` back under a new replica id, importing the ops of `medium` (a recovered disk or a backup). */
  private async reincarnate(node: SimNode, medium: SimMedium): Promise<void> {
    const hooks = { afterFsync: (callback: () => void) => callback(), ackBeforeSync: false };
    const old = await Replica.open({ storage: new SimStorage(medium.clone(), hooks), clock: node.clock });
    const ops = old.opsSince({});
    const horizon = old.horizon();
    node.medium = new SimMedium();
    node.replicaId = randomReplicaId(this.nodePrng);
    await node.start();
    this.traceLine(`reincarnated ${node.name} as ${node.replicaId} with ${ops.length} ops`);
    if (ops.length > 0) await node.replica?.applyRemote(ops, { horizon }).catch(() => {});
    this.sweepLost();
  }

  /**
   * After a fault destroyed data (a dropped record, a stale restore, a wipe): every acknowledged
   * op that no device holds any more (running replicas by vector or id, stopped ones on their
   * medium) is lost for good, and the acked-writes checker exempts it. Anything still held anywhere
   * stays owed: the protocol must bring it back.
   */
  private sweepLost(): void {
    const running: { vv: VersionVector; replica: Replica }[] = [];
    const media: { ids: Set<string>; base: VersionVector }[] = [];
    for (const node of this.nodes) {
      if (node.replica !== undefined && node.state !== 'down') running.push({ vv: node.replica.versionVector(), replica: node.replica });
      else media.push({ ids: new Set(node.medium.recordOpIds.flat()), base: node.medium.snapshot?.base ?? {} });
    }
    for (const write of this.history.acked) {
      const id = opIdString(write.op);
      if (this.history.isLost(write.op)) continue;
      const { replica, seq } = write.op;
      const held =
        running.some((r) => vvCovers(r.vv, replica, seq) || r.replica.opById(replica, seq) !== undefined) ||
        media.some((m) => m.ids.has(id) || vvCovers(m.base, replica, seq));
      if (!held) this.history.markLost(write.op);
    }
  }

  /** Restores a device from its stale backup: safe mode imports it under a new id, raw mode reopens it under the old one. */
  private async restore(node: SimNode): Promise<void> {
    const backup = node.backup;
    if (backup === undefined) return;
    node.crash(false);
    if (this.options.restoreMode === 'raw') {
      this.history.reuseExpected = true;
      node.medium = backup.clone();
      // The backup carries the identity it was taken under (the device may have changed id since).
      node.replicaId = backup.meta?.replicaId ?? node.replicaId;
      this.sweepLost();
      await node.start();
      return;
    }
    await this.reincarnate(node, backup);
  }

  /** Wipes a device and re-creates it empty, under a new id (or its old one, when asked to test reuse detection). */
  private async wipe(node: SimNode): Promise<void> {
    node.crash(false);
    node.medium = new SimMedium();
    this.sweepLost();
    if (this.options.wipeMode === 'new-id') node.replicaId = randomReplicaId(this.nodePrng);
    else this.history.reuseExpected = true;
    await node.start();
  }

  // ---- phases ---------------------------------------------------------------

  /** Every device up, every version vector equal, every state equal. */
  isConverged(): boolean {
    const first = this.nodes[0] as SimNode;
    if (first.replica === undefined || first.state !== 'up') return false;
    const vv = first.replica.versionVector();
    for (const node of this.nodes) if (node.replica === undefined || node.state !== 'up' || !vvEqual(vv, node.replica.versionVector())) return false;
    const state = first.entries();
    for (const node of this.nodes) if (node.entries() !== state) return false;
    return true;
  }

  private scheduleVvCheck(atMs: number): void {
    this.schedule(atMs, () => {
      this.checkEqualVectors();
      if (!this.stopped) this.scheduleVvCheck(this.nowMs + this.options.vvCheckIntervalMs);
    });
  }

  /** Checker 6, run during the run: replicas with equal version vectors show equal states. */
  private checkEqualVectors(): void {
    if (this.history.violations.length >= 10) return;
    for (const message of checkEqualVectors(this.nodes)) {
      this.history.violations.push({ checker: 'equal-vectors', message, atMs: this.nowMs, excerpt: this.trace.tail().slice(-16) });
    }
  }
}

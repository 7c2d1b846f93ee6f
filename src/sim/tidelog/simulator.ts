/**
 * Tidelog's own harness: N devices, each a real `Replica` and a real
 * `SyncSession` on a simulated disk, driven by the kernel's run loop
 * ({@link SimRun}) through every fault the simulator knows, then held to the
 * oracle's checkers (`checkers/`).
 */
import { type Op, opIdString } from '../../core/op.js';
import { randomReplicaId } from '../../core/random.js';
import { Replica } from '../../core/replica.js';
import { type VersionVector, vvCovers, vvEqual } from '../../core/version-vector.js';
import type { SimOptions } from '../options.js';
import { Prng } from '../prng.js';
import type { RunHooks, RunResult } from '../result.js';
import { type FaultHandlers, type FaultKind, SimRun } from '../sim-run.js';
import { checksRun, EqualVectorsCheck, runCheckers } from './checkers/index.js';
import { History } from './history.js';
import { type NodeHost, SimNode } from './node.js';
import { SimMedium, SimStorage } from './storage.js';
import { frameTypeOf } from './transport.js';

export type { ConvergenceMeasure } from '../convergence-watch.js';
export type { RunHooks } from '../result.js';

/** Everything one run of Tidelog's harness produced. */
export interface SimResult extends RunResult {
  readonly opsCommitted: number;
  /** Op ids used twice with different content, and how many conflicts the sessions reported. */
  readonly idReuse: { readonly reused: number; readonly detected: number };
  /** Malformed or corrupt inputs the sessions and recoveries rejected. */
  readonly rejected: { readonly framesMalformed: number; readonly recordsDropped: number };
}

/** Runs one simulation of Tidelog's own replicas. */
export async function runSimulation(options: SimOptions, hooks: RunHooks = {}): Promise<SimResult> {
  return new TidelogRun(options, hooks).run();
}

class TidelogRun extends SimRun<SimNode> implements NodeHost {
  private readonly history = new History();
  private readonly nodePrng: Prng;
  private framesMalformed = 0;
  private recordsDropped = 0;
  /** Checker 6, after every event that changed a replica. */
  private readonly equalVectors = new EqualVectorsCheck();

  /** Every fault kind: Tidelog's harness injects them all. */
  protected readonly handlers: FaultHandlers<FaultKind> = {
    ...this.kernelHandlers(),
    crash: (action) => this.nodeAt(action.node).crash(action.torn),
    restart: (action) => this.restart(this.nodeAt(action.node)),
    bitflip: (action) => {
      if (!this.nodeAt(action.node).medium.flipBit(this.nodePrng)) this.emit({ kind: 'bitflip-missed', node: action.node });
    },
    backup: (action) => {
      const node = this.nodeAt(action.node);
      node.backup = node.medium.clone();
    },
    restore: (action) => this.guard(this.restore(this.nodeAt(action.node))),
    wipe: (action) => this.guard(this.wipe(this.nodeAt(action.node))),
    compact: (action) => {
      const node = this.nodeAt(action.node);
      if (node.state === 'up') node.replica?.compact({ retainOps: action.retainOps }).then(
        (result) => this.emit({ kind: 'compacted', node: node.index, ops: result.compactedOps }),
        () => {},
      );
    },
  };

  constructor(options: SimOptions, hooks: RunHooks) {
    super(options, hooks);
    this.nodePrng = new Prng(options.seed, 'nodes');
    this.addNodes((i) => new SimNode(i, options, this, this.network, this.nodePrng));
  }

  // ---- NodeHost -------------------------------------------------------------

  onCommit(node: SimNode, origin: 'local' | 'remote', ops: readonly Op[]): void {
    if (origin === 'local') this.history.recordCommitted(ops);
    else this.history.recordMerged(ops);
    this.equalVectors.changed();
    this.emit({ kind: origin === 'local' ? 'commit' : 'merge', node: node.index, count: ops.length, firstOpId: opIdString(ops[0] as Op) });
  }

  onNodeChanged(): void {
    this.equalVectors.changed();
  }

  onSyncError(node: SimNode, code: string, message: string): void {
    if (code === 'OP_ID_CONFLICT') this.history.conflictsDetected += 1;
    if (code === 'DECODE_FAILED') this.framesMalformed += 1;
    this.emit({ kind: 'sync-error', node: node.index, code, message });
  }

  // ---- the run --------------------------------------------------------------

  async run(): Promise<SimResult> {
    for (const node of this.nodes) await node.start();
    await this.loop();
    for (const node of this.nodes) await node.session?.stop();
    // With an op id reused (and reported), equal vectors no longer imply equal ops: checker 6 does not apply.
    const reuse = this.history.reusedIds.length > 0 && this.history.reuseExpected && this.history.conflictsDetected > 0;
    const violations = reuse ? [] : [...this.history.violations];
    const context = { options: this.options, nodes: this.nodes, history: this.history, healAtMs: this.plan.healAtMs, convergedAtMs: this.watch.convergedAtMs, nowMs: this.nowMs };
    violations.push(...runCheckers(context));
    return {
      ...this.outcome(violations),
      checks: checksRun(context),
      writesAcked: this.history.acked.length,
      opsCommitted: this.history.committed.size,
      idReuse: { reused: this.history.reusedIds.length, detected: this.history.conflictsDetected },
      rejected: { framesMalformed: this.framesMalformed, recordsDropped: this.recordsDropped },
    };
  }

  protected deliver(from: number, to: number, bytes: Uint8Array, replayed: boolean, sentAtMs: number): void {
    const node = this.nodes[to] as SimNode;
    if (node.state === 'down') return;
    this.emit({ kind: 'deliver', from, to, frameType: frameTypeOf(bytes), bytes: bytes.length, sentAtMs, replayed });
    // A paused node takes the frame at resume (and the resume lets its work finish).
    if (node.state !== 'up') {
      node.whenRunning(() => node.transport.receive(bytes));
      return;
    }
    // The session reads the frame the way it reads any (decode, addressee, sender): only a frame it hands to
    // its replica starts promise work (a hello is answered synchronously; a frame for another replica is dropped).
    const session = node.session;
    const merges = session?.mergesStarted ?? 0;
    node.transport.receive(bytes);
    if (session !== undefined && session.mergesStarted !== merges) this.asyncStarted = true;
  }

  // ---- actions --------------------------------------------------------------

  /** Async fault handling must never take the process down: a failure there is a violation of its own. */
  private guard(work: Promise<unknown>): void {
    work.catch((error: unknown) => {
      this.emit({ kind: 'sim-error', message: (error as Error).message });
      this.history.violations.push(this.found('simulator', `fault handling failed: ${(error as Error).message}`));
    });
  }

  protected write(node: SimNode, writes: readonly { readonly key: string; readonly value?: number }[]): void {
    const replica = node.replica;
    if (node.state !== 'up' || replica === undefined) return;
    const observed = new Map<string, Op | undefined>();
    for (const w of writes) if (!observed.has(w.key)) observed.set(w.key, node.view.get(w.key));
    this.emit({ kind: 'write', node: node.index, writes });
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
        this.emit({ kind: 'ack', node: node.index, count: Array.isArray(result) ? result.length : 1 });
      },
      (error: unknown) => this.emit({ kind: 'write-failed', node: node.index, message: (error as Error).message }),
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
      this.emit({ kind: 'recovered', node: node.index, records: report.droppedRecords, reason: report.reason });
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
    this.emit({ kind: 'reincarnated', node: node.index, replicaId: node.replicaId, ops: ops.length });
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

  /** Checker 6, at every event that changed a replica: replicas with equal version vectors show equal states. */
  protected override afterEvent(): void {
    if (this.history.violations.length >= 10) return;
    for (const finding of this.equalVectors.check(this.nodes)) this.history.violations.push(this.found('equal-vectors', finding.message, finding.subject));
  }
}

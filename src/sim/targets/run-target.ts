/**
 * The target-driven run loop: the simulator's seed, plan, event queue,
 * network and fault schedule, driving any {@link CrdtTarget} through its
 * adapter. Sync is a generic anti-entropy over the adapter's summaries and
 * payloads: every node broadcasts its summary every `antiEntropyIntervalMs`
 * (and when it starts); a node that hears a summary answers that peer with
 * `payloadFor(summary)`; an acknowledged write is pushed to everyone as the
 * payload since the writer's summary before the write.
 *
 * Frames: `[0x54, type, to u16]` + body; type 1 = summary (no data), type 2 =
 * payload, `to` 0xffff = everyone. Promise work is driven like `runSimulation`:
 * the loop settles the microtask queue after each event that may have started some.
 */
import { clockErrorMsMax, FAULT_NAMES, type FaultName, type SimOptions, type SimOverrides, swarmOptions } from '../options.js';
import { Prng } from '../prng.js';
import type { RunHooks, RunResult, Violation } from '../result.js';
import { type FaultHandlers, type KernelFault, SimRun } from '../sim-run.js';
import { checksFor, runTargetChecks } from './checks.js';
import { TargetHistory } from './history.js';
import type { CrdtTarget, TargetWrite } from './target.js';
import { TargetNode, type TargetNodeHost } from './target-node.js';

/**
 * Faults a target run can inject. Left out: `torn` and `bitflip` (the durable log is the harness's, not a
 * target's file format), `backup`, `wipe` (they destroy acknowledged data; the oracle for that is Tidelog's)
 * and `compact` (Tidelog-only).
 */
export const TARGET_FAULTS: readonly FaultName[] = ['drop', 'duplicate', 'reorder', 'slow', 'partition', 'oneway', 'isolate', 'rolling', 'crash', 'pause', 'skew', 'jump', 'replay'];

/** The swarm options of `seed` with the faults a target run cannot inject removed (same for every target). */
export function targetOptions(seed: number, overrides: SimOverrides = {}): SimOptions {
  const options = swarmOptions(seed, overrides);
  return { ...options, faults: options.faults.filter((name) => TARGET_FAULTS.includes(name)) };
}

/** Everything one target run produced. */
export interface TargetRunResult extends RunResult {
  readonly target: string;
  readonly writesIssued: number;
}

/** Optional hooks of a target run. */
export type TargetRunHooks = RunHooks;

/** The fault kinds a target run handles: the kernel's, and a crash and restart of the adapter's process. */
export type TargetFault = KernelFault | 'crash' | 'restart';

/** Frame types: a summary (no data) or a payload. */
const HELLO = 1;
const PAYLOAD = 2;
const EVERYONE = 0xffff;

/** `[0x54, type, to u16]` + body. */
function frame(type: number, to: number, body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(4 + body.length);
  bytes[0] = 0x54;
  bytes[1] = type;
  bytes[2] = to >>> 8;
  bytes[3] = to & 0xff;
  bytes.set(body, 4);
  return bytes;
}

/** Runs `target` through the schedule of `options`. Faults in the plan a target cannot take are skipped (see TARGET_FAULTS). */
export async function runTarget(target: CrdtTarget, options: SimOptions, hooks: TargetRunHooks = {}): Promise<TargetRunResult> {
  return new TargetRun(target, options, hooks).run();
}

class TargetRun extends SimRun<TargetNode> implements TargetNodeHost {
  readonly fsyncMsMax: number;
  readonly clockErrorMsMax: number;
  private readonly history = new TargetHistory();
  private readonly aePrng: Prng;
  private readonly runViolations: Violation[] = [];

  protected readonly handlers: FaultHandlers<TargetFault> = {
    ...this.kernelHandlers(),
    crash: (action) => this.nodeAt(action.node).crash(),
    restart: (action) => this.restart(this.nodeAt(action.node)),
  };

  constructor(
    private readonly target: CrdtTarget,
    options: SimOptions,
    hooks: TargetRunHooks,
  ) {
    super(options, hooks);
    this.fsyncMsMax = options.fsyncMsMax;
    this.clockErrorMsMax = clockErrorMsMax(options);
    this.aePrng = new Prng(options.seed, 'anti-entropy');
    const nodePrng = new Prng(options.seed, 'nodes');
    this.addNodes((i) => new TargetNode(i, target, this, nodePrng));
  }

  async run(): Promise<TargetRunResult> {
    this.emit({ kind: 'run', target: this.target.name, replicas: this.options.replicas, faults: this.options.faults });
    for (const node of this.nodes) await this.start(node);
    await this.loop();
    const states = this.nodes.map((node) => node.stateNow()?.map);
    const violations = [
      ...this.runViolations,
      ...runTargetChecks({ options: this.options, semantics: this.target.semantics, states, history: this.history, healAtMs: this.plan.healAtMs, convergedAtMs: this.watch.convergedAtMs, nowMs: this.nowMs }),
    ];
    return {
      ...this.outcome(violations),
      target: this.target.name,
      checks: checksFor(this.target.semantics),
      writesIssued: this.history.writes.length,
      writesAcked: this.history.acked,
    };
  }

  /** Node states may have changed while promise work ran: their cached states are stale. */
  protected override settled(): void {
    for (const node of this.nodes) node.changed();
  }

  // ---- nodes and sync ---------------------------------------------------------

  private async start(node: TargetNode): Promise<void> {
    if (!(await node.start())) return;
    this.emit({ kind: 'start', node: node.index, replicaId: node.replicaId, chunks: node.durable.length });
    this.hello(node);
    const incarnation = node.incarnation;
    // Jittered so the nodes do not all speak at once; the timer dies with the incarnation and waits out a pause.
    const tick = (): void => {
      if (incarnation !== node.incarnation) return;
      node.whenRunning(() => this.hello(node));
      this.schedule(this.nowMs + this.options.antiEntropyIntervalMs, tick);
    };
    this.schedule(this.nowMs + 1 + this.aePrng.int(this.options.antiEntropyIntervalMs), tick);
  }

  private send(node: TargetNode, type: number, to: number, body: Uint8Array): void {
    if (node.state === 'up') this.network.broadcast(node.index, frame(type, to, body), type !== HELLO);
  }

  private hello(node: TargetNode): void {
    if (node.replica !== undefined) this.send(node, HELLO, EVERYONE, node.replica.summary());
  }

  protected deliver(from: number, to: number, bytes: Uint8Array, replayed: boolean, sentAtMs: number): void {
    const node = this.nodes[to] as TargetNode;
    if (node.state === 'down' || node.state === 'starting') return;
    const type = bytes[1] as number;
    const addressee = ((bytes[2] as number) << 8) | (bytes[3] as number);
    if (type === PAYLOAD && addressee !== EVERYONE && addressee !== to) return;
    this.emit({ kind: 'deliver', from, to, frameType: type, bytes: bytes.length, sentAtMs, replayed });
    node.whenRunning(() => this.receive(node, from, type, bytes.subarray(4)));
  }

  private receive(node: TargetNode, from: number, type: number, body: Uint8Array): void {
    const replica = node.replica;
    if (replica === undefined) return;
    if (type === HELLO) {
      const payload = this.guarded(node, 'payload-for', () => replica.payloadFor(body));
      if (payload !== undefined) this.send(node, PAYLOAD, from, payload);
      return;
    }
    this.asyncStarted = true;
    const incarnation = node.incarnation;
    replica.apply(body).then(
      () => {
        if (incarnation !== node.incarnation) return;
        node.changed();
        this.emit({ kind: 'apply', node: node.index, from });
      },
      (error: unknown) => this.violation('apply', `${node.name} failed to apply a payload from n${from}: ${(error as Error).message}`, node),
    );
  }

  private guarded<T>(node: TargetNode, what: string, work: () => T): T | undefined {
    try {
      return work();
    } catch (error) {
      this.violation(what, `${node.name}: ${(error as Error).message}`, node);
      return undefined;
    }
  }

  private violation(checker: string, message: string, node: TargetNode): void {
    this.emit({ kind: 'violation', checker, message });
    if (this.runViolations.length < 10) this.runViolations.push(this.found(checker, message, { node: node.index }));
  }

  // ---- actions ------------------------------------------------------------------

  /** Starts a crashed node: the loop waits for it; an adapter whose open fails is a violation, not a crash of the run. */
  protected restart(node: TargetNode): void {
    if (node.state !== 'down') return;
    const work = this.start(node);
    this.starting.push(work);
    work.catch((error: unknown) => this.violation('simulator', `restarting ${node.name} failed: ${(error as Error).message}`, node));
  }

  protected write(node: TargetNode, writes: readonly TargetWrite[]): void {
    const replica = node.replica;
    if (node.state !== 'up' || replica === undefined) return;
    const issued = this.history.issue(node.index, node.incarnation, writes, this.nowMs);
    const seq = (issued[0] as { seq: number }).seq;
    this.emit({ kind: 'write', node: node.index, writes, seq });
    const before = replica.summary();
    const incarnation = node.incarnation;
    node.changed();
    replica.write(writes).then(
      (receipt) => {
        issued.forEach((w, i) => {
          w.ackAtMs = this.nowMs;
          const stamp = receipt.stamps?.[i];
          if (stamp !== undefined) w.stamp = stamp;
        });
        this.emit({ kind: 'ack', node: node.index, count: issued.length, seq });
        if (incarnation !== node.incarnation || node.replica !== replica) return;
        node.changed();
        // Push: what a peer that was where this replica was before the write now lacks.
        const payload = this.guarded(node, 'payload-for', () => replica.payloadFor(before));
        if (payload !== undefined) this.send(node, PAYLOAD, EVERYONE, payload);
      },
      (error: unknown) => this.violation('write', `${node.name} write failed: ${(error as Error).message}`, node),
    );
  }

  // ---- phases -------------------------------------------------------------------

  isConverged(): boolean {
    const first = this.nodes[0]?.stateNow();
    if (first === undefined) return false;
    return this.nodes.every((node) => node.state === 'up' && node.stateNow()?.json === first.json);
  }
}

/** Every fault name a target run ignores (for reports). */
export const NON_TARGET_FAULTS: readonly FaultName[] = FAULT_NAMES.filter((name) => !TARGET_FAULTS.includes(name));

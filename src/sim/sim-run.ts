/**
 * The kernel of a run, shared by Tidelog's harness and the target harness: one
 * virtual clock, one event queue, the trace, the simulated network, the
 * schedule drawn from the seed, the one run loop, the one dispatch from a
 * fault's kind to its handler, the final heal and the convergence watch. A
 * harness brings its nodes (each a {@link SimProcess}), the handlers of the
 * faults it can inject, how a frame reaches a node, how a crashed node
 * restarts, and its end-of-run checks.
 *
 * Async code (a replica's promise-based commit path, an adapter's open) is
 * driven deterministically: after every event that started promise work the
 * loop waits until the microtask queue is empty (`settle`), and for node starts
 * in progress. No real timer or I/O runs inside a run, so nothing else can interleave.
 */
import { type ConvergenceHost, ConvergenceWatch } from './convergence-watch.js';
import { EventQueue } from './event-queue.js';
import { SimNetwork } from './network.js';
import { clockErrorMsMax, type SimOptions } from './options.js';
import { type Action, type FaultAction, makePlan, type Plan } from './plan.js';
import { Prng } from './prng.js';
import type { SimProcess } from './process.js';
import type { RunHooks, RunResult, Violation } from './result.js';
import { settle } from './settle.js';
import { Trace, type TraceEvent } from './trace.js';

/** Every kind of fault action a plan can hold. */
export type FaultKind = FaultAction['kind'];

/** The fault action of kind `K`. */
export type FaultOf<K extends FaultKind> = Extract<FaultAction, { readonly kind: K }>;

/** A harness's fault handlers: one per kind it can inject, so the type says which faults it supports. */
export type FaultHandlers<K extends FaultKind> = { readonly [P in K]: (action: FaultOf<P>) => void };

/** The kinds handled alike by every harness: the network's, and a process's pause, resume and clock jump. */
export type KernelFault = 'partition' | 'heal' | 'replay' | 'pause' | 'resume' | 'clock-jump';

/** The common part of a result, the kernel's own fields. */
export type RunOutcome = Omit<RunResult, 'checks' | 'writesAcked'>;

const PROGRESS_EVERY_EVENTS = 20_000;

/** The loop's state and the pieces every run has; a harness's run adds nodes, handlers and checks. */
export abstract class SimRun<N extends SimProcess> implements ConvergenceHost {
  /** Set by every event that may have started promise work (writes, merges, syncs of storage, restarts). */
  asyncStarted = false;
  protected readonly queue = new EventQueue();
  protected nowMs = 0;
  protected events = 0;
  protected stopped = false;
  protected readonly trace: Trace;
  protected readonly network: SimNetwork;
  protected readonly plan: Plan;
  protected readonly nodes: N[] = [];
  /** Faults injected, by kind (for the summary). */
  protected readonly faults: Record<string, number> = {};
  protected readonly watch: ConvergenceWatch;
  /** Node starts in progress: the loop waits for them before the next event (an adapter's open may take turns). */
  protected starting: Promise<unknown>[] = [];
  /** The handlers of the faults this harness injects; a plan's other faults are traced as skipped. */
  protected abstract readonly handlers: Partial<FaultHandlers<FaultKind>>;

  constructor(
    protected readonly options: SimOptions,
    protected readonly hooks: RunHooks,
  ) {
    this.trace = new Trace({ keepAll: hooks.keepTrace === true, ...(hooks.echo === undefined ? {} : { echo: hooks.echo }) });
    this.plan = hooks.plan ?? makePlan(options);
    this.network = new SimNetwork(options, new Prng(options.seed, 'network'), {
      now: () => this.nowMs,
      schedule: (atMs, run) => this.schedule(atMs, run),
      deliver: (from, to, bytes, replayed, sentAtMs) => this.deliver(from, to, bytes, replayed, sentAtMs),
    });
    this.watch = new ConvergenceWatch(this, this.network, { ...options, healAtMs: this.plan.healAtMs });
  }

  /** Adds the nodes `make` builds, each with its drawn clock skew when the `skew` fault is on. */
  protected addNodes(make: (index: number) => N): void {
    const skew = new Prng(this.options.seed, 'skew');
    for (let i = 0; i < this.options.replicas; i++) {
      const node = make(i);
      if (this.options.faults.includes('skew')) node.skewMs = skew.range(-this.options.clockSkewMsMax, this.options.clockSkewMsMax);
      this.nodes.push(node);
    }
  }

  /** Virtual time now, ms. */
  now(): number {
    return this.nowMs;
  }

  /** Ends the event loop after the current event (the convergence watch calls it). */
  stop(): void {
    this.stopped = true;
  }

  /** Runs `run` at virtual time `atMs`. */
  schedule(atMs: number, run: () => void): void {
    this.queue.push(atMs, run);
  }

  /** Traces one event, stamped with the virtual time. */
  emit(event: TraceEvent): void {
    this.trace.write(this.nowMs, event);
  }

  /** Every replica up and in agreement. */
  abstract isConverged(): boolean;

  /** Hands a frame the network delivers to node `to`. */
  protected abstract deliver(from: number, to: number, bytes: Uint8Array, replayed: boolean, sentAtMs: number): void;

  /** Restarts a crashed node (a `restart` fault, the final heal). */
  protected abstract restart(node: N): void;

  /** Issues a workload write on node `index`. */
  protected abstract write(node: N, writes: readonly { readonly key: string; readonly value?: number }[]): void;

  /** Called after the loop waited for an event's promise work (caches of node state may be stale). */
  protected settled(): void {}

  /** Called after every event, once its promise work has run: where a harness checks what must hold at every moment. */
  protected afterEvent(): void {}

  /** The node a fault names (indexes wrap, so a plan drawn for more replicas still runs). */
  protected nodeAt(index: number): N {
    return this.nodes[index % this.nodes.length] as N;
  }

  /** The handlers every harness shares: partitions, heals, replays, and a process's pause, resume and clock jump. */
  protected kernelHandlers(): FaultHandlers<KernelFault> {
    return {
      partition: (action) => this.network.partition(action.shape, action.groupA),
      heal: () => this.network.heal(),
      replay: (action) => this.network.replayOld(action.count),
      pause: (action) => this.nodeAt(action.node).pause(),
      resume: (action) => this.nodeAt(action.node).resume(),
      'clock-jump': (action) => {
        // Clamped: an honest clock is wrong by at most clockErrorMsMax (a clock beyond it is a liar's).
        const node = this.nodeAt(action.node);
        const bound = clockErrorMsMax(this.options);
        node.skewMs = Math.max(-bound, Math.min(bound, node.skewMs + action.deltaMs));
      },
    };
  }

  /**
   * The one run loop: schedules the plan, the final heal and then `afterPlan`'s events (same-time events run
   * in the order they were scheduled), then pops events in (time, insertion) order until the convergence watch
   * stops it or nothing is left.
   */
  protected async loop(afterPlan?: () => void): Promise<void> {
    for (const action of this.plan.actions) this.schedule(action.atMs, () => this.perform(action));
    this.schedule(this.plan.healAtMs, () => this.finalHeal());
    afterPlan?.();
    const onProgress = this.hooks.onProgress;
    while (!this.stopped) {
      const run = this.queue.popRun();
      if (run === undefined) break;
      this.nowMs = this.queue.lastAtMs;
      this.events += 1;
      run();
      // Only events that started promise work need the wait that lets it finish.
      if (this.asyncStarted) {
        this.asyncStarted = false;
        await settle();
        while (this.starting.length > 0) {
          const starts = this.starting;
          this.starting = [];
          await Promise.allSettled(starts);
          await settle();
        }
        this.settled();
      }
      this.afterEvent();
      if (onProgress !== undefined && this.events % PROGRESS_EVERY_EVENTS === 0) onProgress(Math.min(1, this.nowMs / (this.plan.healAtMs + 1)), this.events);
    }
  }

  /** Runs one planned action: a write, or a fault through its handler. */
  private perform(action: Action): void {
    this.asyncStarted = true;
    if (action.kind === 'write') {
      this.write(this.nodeAt(action.node), action.writes);
      return;
    }
    this.faults[action.kind] = (this.faults[action.kind] ?? 0) + 1;
    this.emit({ kind: 'fault', action });
    const handler = this.handlers[action.kind] as ((action: FaultAction) => void) | undefined;
    if (handler === undefined) this.emit({ kind: 'fault-skipped', fault: action.kind });
    else handler(action);
  }

  /** The kernel's part of the run's result, once the loop has ended and the checks have run. */
  protected outcome(violations: readonly Violation[]): RunOutcome {
    this.emit({ kind: 'end', violations: violations.length });
    return {
      options: this.options,
      plan: this.plan,
      events: this.events,
      virtualMs: this.nowMs,
      traceHash: this.trace.hash(),
      trace: this.trace.entries,
      traceTail: this.trace.tail(),
      faultsInjected: this.faults,
      convergence: this.watch.convergence,
      violations,
      network: { ...this.network.counters },
    };
  }

  /** A violation found during the run, with the trace just before it. */
  protected found(checker: string, message: string, subject?: Violation['subject']): Violation {
    return { checker, message, atMs: this.nowMs, excerpt: this.trace.tail().slice(-16), ...(subject === undefined ? {} : { subject }) };
  }

  /** Faults stop, the network heals, every node comes back; then the watch measures convergence. */
  private finalHeal(): void {
    this.asyncStarted = true;
    this.network.faultsOn = false;
    this.network.heal();
    this.emit({ kind: 'final-heal' });
    for (const node of this.nodes) {
      if (node.state === 'paused') node.resume();
      else if (node.state === 'down') this.restart(node);
    }
    this.watch.start();
  }
}

/**
 * What the Tidelog simulator and the target harness share: one virtual clock,
 * one event queue, the trace, the simulated network, the schedule drawn from the
 * seed, the final heal and the convergence watch. Each subclass brings its nodes,
 * how a frame reaches one, and how a crashed node restarts.
 */
import { type ConvergenceHost, type ConvergenceMeasure, ConvergenceWatch } from './convergence-watch.js';
import { EventQueue } from './event-queue.js';
import type { Violation } from './tidelog/history.js';
import { type NetworkCounters, SimNetwork } from './network.js';
import type { SimOptions } from './options.js';
import { type Action, makePlan, type Plan } from './plan.js';
import { Prng } from './prng.js';
import { Trace } from './trace.js';

/** Hooks both kinds of run take. */
export interface SimRunHooks {
  /** Keep every trace line (determinism check, replay). */
  readonly keepTrace?: boolean;
  /** Print each trace line as it is written. */
  readonly echo?: (line: string) => void;
  /** Run this schedule instead of the one the seed draws (shrinking). */
  readonly plan?: Plan;
}

/** What every run reports, Tidelog's or a target's. */
export interface RunOutcome {
  readonly options: SimOptions;
  readonly plan: Plan;
  /** Events popped from the queue. */
  readonly events: number;
  readonly virtualMs: number;
  readonly traceHash: string;
  readonly traceLines: readonly string[] | undefined;
  readonly traceTail: readonly string[];
  readonly faultsInjected: Readonly<Record<string, number>>;
  readonly convergence: ConvergenceMeasure | undefined;
  readonly violations: readonly Violation[];
  readonly network: NetworkCounters;
}

/** The part of a node the final heal needs. */
export interface HealableNode {
  readonly state: string;
  resume(): void;
}

/** The loop's state and the pieces every run has; subclasses add nodes and their faults. */
export abstract class SimRun<N extends HealableNode> implements ConvergenceHost {
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

  constructor(
    protected readonly options: SimOptions,
    hooks: SimRunHooks,
  ) {
    this.trace = new Trace({ keepAll: hooks.keepTrace === true, ...(hooks.echo === undefined ? {} : { echo: hooks.echo }) });
    this.plan = hooks.plan ?? makePlan(options);
    this.network = new SimNetwork(options, new Prng(options.seed, 'network'), {
      now: () => this.nowMs,
      schedule: (atMs, run) => this.schedule(atMs, run),
      trace: (line) => this.traceLine(line),
      deliver: (from, to, bytes, replayed, sentAtMs) => this.deliver(from, to, bytes, replayed, sentAtMs),
    });
    this.watch = new ConvergenceWatch(this, this.network, { ...options, healAtMs: this.plan.healAtMs });
  }

  /** Adds the nodes `make` builds, each with its drawn clock skew when the `skew` fault is on. */
  protected addNodes(make: (index: number) => N & { skewMs: number }): void {
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

  /** Writes one trace line, stamped with the virtual time. */
  traceLine(line: string): void {
    this.trace.write(`${this.nowMs} ${line}`);
  }

  /** Every replica up and in agreement. */
  abstract isConverged(): boolean;

  /** Hands a frame the network delivers to node `to`. */
  protected abstract deliver(from: number, to: number, bytes: Uint8Array, replayed: boolean, sentAtMs: number): void;

  /** Restarts a crashed node at the final heal. */
  protected abstract restart(node: N): void;

  /** The shared part of the run's result, once the loop has ended and the checkers have run. */
  protected outcome(violations: readonly Violation[]): RunOutcome {
    this.traceLine(`end violations=${violations.length}`);
    return {
      options: this.options,
      plan: this.plan,
      events: this.events,
      virtualMs: this.nowMs,
      traceHash: this.trace.hash(),
      traceLines: this.trace.lines,
      traceTail: this.trace.tail(),
      faultsInjected: this.faults,
      convergence: this.watch.convergence,
      violations,
      network: { ...this.network.counters },
    };
  }

  /** Counts and traces a fault the plan injects now. */
  protected recordFault(action: Exclude<Action, { kind: 'write' }>): void {
    this.faults[action.kind] = (this.faults[action.kind] ?? 0) + 1;
    this.traceLine(`fault ${action.kind} ${'node' in action ? `n${action.node}` : ''}${action.kind === 'partition' ? `${action.shape} ${action.groupA.join(',')}` : ''}`);
  }

  /** Faults stop, the network heals, every node comes back; then the watch measures convergence. */
  protected finalHeal(): void {
    this.asyncStarted = true;
    this.network.faultsOn = false;
    this.network.heal();
    this.traceLine('final-heal');
    for (const node of this.nodes) {
      if (node.state === 'paused') node.resume();
      else if (node.state === 'down') this.restart(node);
    }
    this.watch.start();
  }
}

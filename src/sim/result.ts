/**
 * What every run reports, whichever harness ran it (Tidelog's own or a
 * target's): the schedule, the counts, the convergence measurement, the trace
 * and the violations the checkers found.
 */
import type { ConvergenceMeasure } from './convergence-watch.js';
import type { NetworkCounters } from './network.js';
import type { SimOptions } from './options.js';
import type { Plan } from './plan.js';
import type { TraceEntry } from './trace.js';

/** What a finding is about, so a report can show the trace around it (the most specific field wins). */
export interface Subject {
  /** A target run's write, by its global number. */
  readonly write?: number;
  /** An op id, `replica:seq`. */
  readonly opId?: string;
  readonly key?: string;
  /** A node index. */
  readonly node?: number;
}

/** One finding of a checker; the run adds the checker's name and the time. */
export interface Finding {
  readonly message: string;
  readonly subject?: Subject;
}

/** A violation of an invariant. */
export interface Violation extends Finding {
  /** The checker that found it (a file name under a harness's `checkers/`, or a check's name). */
  readonly checker: string;
  /** Virtual time it was found, ms. */
  readonly atMs: number;
  /** The trace just before it, when it was found during the run. */
  readonly excerpt?: readonly TraceEntry[];
}

/** Optional hooks of a run. */
export interface RunHooks {
  /** Keep every trace entry (determinism check, replay, the timeline). */
  readonly keepTrace?: boolean;
  /** Print each trace event, as text, as it is written. */
  readonly echo?: (line: string) => void;
  /** Run this schedule instead of the one the seed draws (shrinking, scenarios). */
  readonly plan?: Plan;
  /** Called every few thousand events with the fraction of virtual time done. */
  readonly onProgress?: (fraction: number, events: number) => void;
}

/** What every run reports. */
export interface RunResult {
  readonly options: SimOptions;
  readonly plan: Plan;
  /** Events popped from the queue. */
  readonly events: number;
  readonly virtualMs: number;
  readonly traceHash: string;
  /** Every trace entry, when the run kept them (`keepTrace`). */
  readonly trace: readonly TraceEntry[] | undefined;
  /** The last trace entries. */
  readonly traceTail: readonly TraceEntry[];
  readonly faultsInjected: Readonly<Record<string, number>>;
  readonly convergence: ConvergenceMeasure | undefined;
  readonly violations: readonly Violation[];
  readonly network: NetworkCounters;
  /** The checks that ran, by name. */
  readonly checks: readonly string[];
  readonly writesAcked: number;
}

/**
 * The run's trace: a typed event per step of the run, stamped with its virtual
 * time. Events are formatted to text for two things only: the hash (FNV-1a,
 * 64 bits from two 32-bit lanes, over every line as it is written: two runs of
 * one seed must produce the same hash) and the echo (`--trace`, `replay`).
 * Everything that reads a trace (the timeline, the failure excerpts, the
 * determinism check, tests) reads the events.
 */
import type { FaultAction } from './plan.js';

/** One write of a batch as traced: `value` absent means a delete. */
export interface TracedWrite {
  readonly key: string;
  readonly value?: unknown;
}

/**
 * Everything a run can trace. `node`, `from` and `to` are node indexes (`n3` in text); op ids are
 * `replica:seq`. Harness-specific events say so.
 */
export type TraceEvent =
  /** A target run's first event: which adapter, how many replicas, which faults are on. */
  | { readonly kind: 'run'; readonly target: string; readonly replicas: number; readonly faults: readonly string[] }
  /** A target node opened its replica (`chunks`: durable chunks it loaded). */
  | { readonly kind: 'start'; readonly node: number; readonly replicaId: string; readonly chunks: number }
  /** A workload write issued (`seq`: a target run's global number of its first entry). */
  | { readonly kind: 'write'; readonly node: number; readonly writes: readonly TracedWrite[]; readonly seq?: number }
  /** A write acknowledged: `count` entries (from `seq` on, in a target run). */
  | { readonly kind: 'ack'; readonly node: number; readonly count: number; readonly seq?: number }
  | { readonly kind: 'write-failed'; readonly node: number; readonly message: string }
  /** Tidelog: a replica committed (`commit`) or merged (`merge`) `count` ops, the first `firstOpId`. */
  | { readonly kind: 'commit' | 'merge'; readonly node: number; readonly count: number; readonly firstOpId: string }
  /** A target node applied a payload from `from`. */
  | { readonly kind: 'apply'; readonly node: number; readonly from: number }
  /** A frame reached node `to` (`replayed`: an old frame delivered again). `frameType`: byte 1 of the frame. */
  | {
      readonly kind: 'deliver';
      readonly from: number;
      readonly to: number;
      readonly frameType: number;
      readonly bytes: number;
      readonly sentAtMs: number;
      readonly replayed: boolean;
    }
  /** Tidelog: a sync session reported an error. */
  | { readonly kind: 'sync-error'; readonly node: number; readonly code: string; readonly message: string }
  /** The plan injected a fault. */
  | { readonly kind: 'fault'; readonly action: FaultAction }
  /** A fault the harness cannot inject was in the plan and skipped. */
  | { readonly kind: 'fault-skipped'; readonly fault: FaultAction['kind'] }
  /** Tidelog: a bit flip found no synced record to damage. */
  | { readonly kind: 'bitflip-missed'; readonly node: number }
  | { readonly kind: 'compacted'; readonly node: number; readonly ops: number }
  /** Tidelog: recovery dropped records from the first bad one on. */
  | { readonly kind: 'recovered'; readonly node: number; readonly records: number; readonly reason: string }
  /** Tidelog: a device came back under a new replica id with `ops` ops imported. */
  | { readonly kind: 'reincarnated'; readonly node: number; readonly replicaId: string; readonly ops: number }
  /** Fault handling itself failed (a violation of its own). */
  | { readonly kind: 'sim-error'; readonly message: string }
  /** A violation found during the run. */
  | { readonly kind: 'violation'; readonly checker: string; readonly message: string }
  | { readonly kind: 'final-heal' }
  | { readonly kind: 'converged'; readonly afterMs: number }
  | { readonly kind: 'diverged' }
  | { readonly kind: 'liveness-exhausted' }
  | { readonly kind: 'end'; readonly violations: number };

/** One traced event: its number in the run, its virtual time and the event. */
export interface TraceEntry {
  readonly index: number;
  readonly atMs: number;
  readonly event: TraceEvent;
}

function writesText(writes: readonly TracedWrite[]): string {
  return writes.map((w) => (w.value === undefined ? `-${w.key}` : `${w.key}=${w.value}`)).join(',');
}

/** The text of one event, as hashed and echoed (the format every earlier trace hash was computed over). */
export function formatEvent(e: TraceEvent): string {
  switch (e.kind) {
    case 'deliver':
      return `${e.replayed ? 'replay' : 'deliver'} n${e.from}>n${e.to} t${e.frameType} ${e.bytes}B sent ${e.sentAtMs}`;
    case 'commit':
    case 'merge':
      return `${e.kind} n${e.node} ${e.count} ops ${e.firstOpId}..`;
    case 'write':
      return `write n${e.node}${e.seq === undefined ? '' : ` #${e.seq}`} ${writesText(e.writes)}`;
    case 'ack':
      return e.seq === undefined ? `ack n${e.node} ${e.count}` : `ack n${e.node} #${e.seq}+${e.count}`;
    case 'apply':
      return `merge n${e.node} from n${e.from}`;
    case 'fault': {
      const a = e.action;
      return `fault ${a.kind} ${'node' in a ? `n${a.node}` : ''}${a.kind === 'partition' ? `${a.shape} ${a.groupA.join(',')}` : ''}`;
    }
    case 'run':
      return `target ${e.target} replicas=${e.replicas} faults=${e.faults.join(',') || 'none'}`;
    case 'start':
      return `start n${e.node} as ${e.replicaId} from ${e.chunks} chunks`;
    case 'write-failed':
      return `write-failed n${e.node} ${e.message.slice(0, 60)}`;
    case 'sync-error':
      return `sync-error n${e.node} ${e.code} ${e.message.slice(0, 80)}`;
    case 'fault-skipped':
      return `skip ${e.fault}: not a target fault`;
    case 'bitflip-missed':
      return 'bitflip: empty medium';
    case 'compacted':
      return `compacted n${e.node} ${e.ops} ops`;
    case 'recovered':
      return `recovered n${e.node} dropped ${e.records} records (${e.reason})`;
    case 'reincarnated':
      return `reincarnated n${e.node} as ${e.replicaId} with ${e.ops} ops`;
    case 'sim-error':
      return `sim-error ${e.message}`;
    case 'violation':
      return `violation ${e.checker} ${e.message.slice(0, 100)}`;
    case 'final-heal':
      return 'final-heal';
    case 'converged':
      return `converged after ${e.afterMs}ms`;
    case 'diverged':
      return 'diverged again after convergence';
    case 'liveness-exhausted':
      return 'liveness budget exhausted';
    case 'end':
      return `end violations=${e.violations}`;
  }
}

/** `#12 340 deliver n0>n1 ...`: an entry as one line of text (for people: excerpts, the echo, diffs). */
export function formatEntry(entry: TraceEntry): string {
  return `#${entry.index} ${entry.atMs} ${formatEvent(entry.event)}`;
}

/** The node indexes an event is about (its node, both ends of a delivery, a fault's node). */
export function eventNodes(e: TraceEvent): readonly number[] {
  if ('node' in e) return [e.node];
  if (e.kind === 'deliver') return [e.to, e.from];
  if (e.kind === 'fault' && 'node' in e.action) return [e.action.node];
  return [];
}

/** Records the events of one run and hashes their text. */
export class Trace {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193 ^ 0x5bd1e995;
  /** The last events and their times, for failure excerpts (parallel rings: no object per entry). */
  private readonly ringEvents: TraceEvent[];
  private readonly ringTimes: Float64Array;
  /** Number of events written. */
  count = 0;
  /** Every entry, when kept (determinism check, replay, the timeline). */
  readonly entries: TraceEntry[] | undefined;
  private readonly echo: ((line: string) => void) | undefined;

  constructor(options: { readonly ringEvents?: number; readonly keepAll?: boolean; readonly echo?: (line: string) => void } = {}) {
    const ring = options.ringEvents ?? 64;
    this.ringEvents = new Array(ring);
    this.ringTimes = new Float64Array(ring);
    this.entries = options.keepAll ? [] : undefined;
    this.echo = options.echo;
  }

  /** Appends one event at virtual time `atMs`. */
  write(atMs: number, event: TraceEvent): void {
    const line = `${atMs} ${formatEvent(event)}`;
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    this.h1 = Math.imul(h1 ^ 10, 0x01000193);
    this.h2 = Math.imul(h2 ^ 10, 0x5bd1e995);
    const slot = this.count % this.ringEvents.length;
    this.ringEvents[slot] = event;
    this.ringTimes[slot] = atMs;
    this.entries?.push({ index: this.count, atMs, event });
    this.echo?.(`#${this.count} ${line}`);
    this.count += 1;
  }

  /** The hash of every event so far, 16 hex digits. */
  hash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }

  /** The last entries written, oldest first. */
  tail(): TraceEntry[] {
    const out: TraceEntry[] = [];
    const ring = this.ringEvents.length;
    for (let n = this.count - Math.min(this.count, ring); n < this.count; n++) out.push({ index: n, atMs: this.ringTimes[n % ring] as number, event: this.ringEvents[n % ring] as TraceEvent });
    return out;
  }
}

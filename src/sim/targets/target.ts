/**
 * The adapter interface of the simulator's pluggable targets: what a CRDT must
 * offer for `runTarget` to drive it through the same fault schedules as
 * Tidelog. A target is a map of string keys to JSON values; the harness owns
 * time, randomness, the network and the disk, and hands them in.
 *
 * Durability model: every node has a durable log owned by the harness. An
 * adapter appends byte chunks to it; a chunk is durable once the promise of its
 * `append` resolves (chunks become durable in append order). A crash throws the
 * replica away (its memory is lost, pending appends never complete) and a
 * restart calls `open` again with the chunks that were durable. A correct
 * adapter resolves a write's promise only after the chunk holding it is durable.
 */
import type { Clock } from '../../core/clock.js';
import type { Random } from '../../core/random.js';

/** One write of a local batch: `value` absent means delete `key`. */
export interface TargetWrite {
  readonly key: string;
  readonly value?: number | string | boolean | null;
}

/** The node's durable log, as the adapter sees it. */
export interface DurableLog {
  /** Appends `chunk`; resolves once it is durable. Chunks become durable in the order they were appended. */
  append(chunk: Uint8Array): Promise<void>;
}

/** What `open` gets: identity, injected capabilities, and what survived on disk. */
export interface TargetOpenOptions {
  /**
   * 16 lowercase hex characters, new for every incarnation of a node (each restart): a restarted node may
   * have lost writes it had already sent, so it must never write under an id its peers have seen.
   */
  readonly replicaId: string;
  /** The node's wall clock (virtual time plus its skew and jumps). */
  readonly clock: Clock;
  /**
   * The most any node's clock in this run is off virtual time (its skew plus its jumps): two honest clocks differ
   * by at most twice this. A target that refuses timestamps too far ahead (Tidelog's `maxDriftMs`) must allow that.
   */
  readonly clockErrorMsMax: number;
  /** Seeded randomness; an adapter must use nothing else. */
  readonly random: Random;
  /** The chunks that were durable when the node last crashed (empty on first start), oldest first. */
  readonly durable: readonly Uint8Array[];
  /** Where to append new chunks. */
  readonly log: DurableLog;
}

/** What a write's promise resolves with. */
export interface WriteReceipt {
  /**
   * For `hlc-lww` targets: one stamp per write, in the order written, that sorts (as a string) like the
   * target's merge order. Lets the harness check that no acknowledged write loses to an older one.
   */
  readonly stamps?: readonly string[];
}

/** One running replica of a target. Everything but `write` and `apply` is synchronous. */
export interface TargetReplica {
  /** Applies the writes atomically; resolves when they are acknowledged, i.e. durable in the log. */
  write(writes: readonly TargetWrite[]): Promise<WriteReceipt>;
  /** The visible state: every present key and its value (any order; the harness sorts). */
  read(): Iterable<readonly [string, unknown]>;
  /** A compact description of what this replica holds (a version vector, a Yjs snapshot, Automerge heads). */
  summary(): Uint8Array;
  /**
   * What a peer whose summary is `peerSummary` needs from this replica (everything when undefined), or
   * undefined when it needs nothing. Sending more than needed is allowed; payloads must be idempotent.
   */
  payloadFor(peerSummary: Uint8Array | undefined): Uint8Array | undefined;
  /**
   * Merges a payload from a peer (possibly a duplicate, reordered, or replayed long after).
   * @throws a TidelogError (e.g. DecodeError) for bytes that are not a payload of this target.
   */
  apply(payload: Uint8Array): Promise<void>;
  /** Called when the node crashes: drop timers and listeners (volatile state is abandoned, never flushed). */
  crash?(): void;
}

/**
 * How a target resolves concurrent writes to one key. `hlc-lww`: last writer wins by a total order
 * the receipts' stamps expose (Tidelog). `own`: the CRDT's own rule (Yjs, Automerge), not checkable
 * against a timestamp order, only for convergence and for acknowledged writes not superseded.
 */
export type TargetSemantics = 'hlc-lww' | 'own';

/** A CRDT the simulator can drive. */
export interface CrdtTarget {
  /** Short name for traces and reports (`tidelog`, `yjs`, `automerge`). */
  readonly name: string;
  readonly semantics: TargetSemantics;
  /** Opens (or re-opens after a crash) one replica. */
  open(options: TargetOpenOptions): Promise<TargetReplica>;
}

/** True when `value` has the shape of a {@link CrdtTarget} (for targets loaded from a module). */
export function isCrdtTarget(value: unknown): value is CrdtTarget {
  if (typeof value !== 'object' || value === null) return false;
  const target = value as Record<string, unknown>;
  return typeof target.name === 'string' && typeof target.open === 'function' && (target.semantics === 'hlc-lww' || target.semantics === 'own');
}

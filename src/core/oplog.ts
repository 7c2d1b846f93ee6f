/**
 * The in-memory index of the log: every op held, by replica and sequence
 * number, above a compaction base. Knows nothing of keys or merge; that is
 * `state.ts`.
 */
import type { Op } from './op.js';
import type { VersionVector } from './version-vector.js';

interface ReplicaLog {
  /** Ops 1..base are compacted away (summarized in the snapshot). */
  base: number;
  /** ops[i] holds seq base + 1 + i; holes are ops not received yet. */
  ops: (Op | undefined)[];
  /** Highest s such that every op up to s is held or compacted. */
  contiguous: number;
  /** Highest seq held at all (>= contiguous when there are gaps). */
  maxSeq: number;
}

/** Ops by id, with contiguity tracking for the version vector. */
export class OpLog {
  private readonly replicas = new Map<string, ReplicaLog>();
  private heldCount = 0;
  /**
   * The vectors, built once per change: sync sessions and the simulator ask for them on every frame. Safe to
   * share because they are frozen.
   */
  private vvCache: VersionVector | undefined;
  private baseCache: VersionVector | undefined;

  /** Number of ops held (not counting compacted ones). */
  get size(): number {
    return this.heldCount;
  }

  /** The op with this id, if held. */
  get(replica: string, seq: number): Op | undefined {
    const log = this.replicas.get(replica);
    if (log === undefined || seq <= log.base) return undefined;
    return log.ops[seq - log.base - 1];
  }

  /** True when the op is held or compacted (so it must not be applied again). */
  has(replica: string, seq: number): boolean {
    const log = this.replicas.get(replica);
    if (log === undefined) return false;
    return seq <= log.base || log.ops[seq - log.base - 1] !== undefined;
  }

  /** Adds an op not held before (callers check `has` first). */
  add(op: Op): void {
    let log = this.replicas.get(op.replica);
    if (log === undefined) {
      log = { base: 0, ops: [], contiguous: 0, maxSeq: 0 };
      this.replicas.set(op.replica, log);
    }
    const index = op.seq - log.base - 1;
    // Filling holes up to a far-ahead seq would let one hostile op allocate gigabytes;
    // a sparse array keeps memory proportional to ops actually held.
    log.ops[index] = op;
    this.heldCount += 1;
    if (op.seq > log.maxSeq) log.maxSeq = op.seq;
    if (op.seq === log.contiguous + 1) {
      let next = log.contiguous + 1;
      while (log.ops[next - log.base - 1] !== undefined) next += 1;
      log.contiguous = next - 1;
      this.vvCache = undefined;
    }
  }

  /** Highest seq held for a replica, contiguous or not. */
  maxSeq(replica: string): number {
    return this.replicas.get(replica)?.maxSeq ?? 0;
  }

  /** The version vector: highest contiguous seq per replica. */
  versionVector(): VersionVector {
    if (this.vvCache !== undefined) return this.vvCache;
    const vv: Record<string, number> = {};
    for (const [replica, log] of this.replicas) if (log.contiguous > 0) vv[replica] = log.contiguous;
    this.vvCache = Object.freeze(vv);
    return this.vvCache;
  }

  /** The compaction base: ops at or below it are no longer held individually. */
  base(): VersionVector {
    if (this.baseCache !== undefined) return this.baseCache;
    const vv: Record<string, number> = {};
    for (const [replica, log] of this.replicas) if (log.base > 0) vv[replica] = log.base;
    this.baseCache = Object.freeze(vv);
    return this.baseCache;
  }

  /** Every held op the holder of `vv` lacks, per replica in seq order. */
  opsSince(vv: VersionVector): Op[] {
    const out: Op[] = [];
    for (const [replica, log] of this.replicas) {
      const from = Math.max(vv[replica] ?? 0, log.base);
      for (let seq = from + 1; seq <= log.maxSeq; seq++) {
        const op = log.ops[seq - log.base - 1];
        if (op !== undefined) out.push(op);
      }
    }
    return out;
  }

  /** Calls `visit` on every held op. */
  forEach(visit: (op: Op) => void): void {
    for (const log of this.replicas.values()) {
      for (const op of log.ops) if (op !== undefined) visit(op);
    }
  }

  /** The op (replica, seq), held or not: used to pick a compaction cut per replica. */
  heldRange(replica: string): { base: number; contiguous: number } | undefined {
    const log = this.replicas.get(replica);
    return log === undefined ? undefined : { base: log.base, contiguous: log.contiguous };
  }

  /** True when any op of `replica` is held or compacted. */
  knows(replica: string): boolean {
    return this.replicas.has(replica);
  }

  /** Replica ids known to the log. */
  replicaIds(): IterableIterator<string> {
    return this.replicas.keys();
  }

  /**
   * Raises the base to `newBase` (element-wise max), dropping the ops it covers.
   * Returns the dropped ops so the caller can fold them into its summary.
   */
  raiseBase(newBase: VersionVector): Op[] {
    this.vvCache = undefined;
    this.baseCache = undefined;
    const dropped: Op[] = [];
    for (const [replica, seq] of Object.entries(newBase)) {
      let log = this.replicas.get(replica);
      if (log === undefined) {
        log = { base: 0, ops: [], contiguous: 0, maxSeq: 0 };
        this.replicas.set(replica, log);
      }
      if (seq <= log.base) continue;
      const cut = seq - log.base;
      for (let i = 0; i < Math.min(cut, log.ops.length); i++) {
        const op = log.ops[i];
        if (op !== undefined) dropped.push(op);
      }
      log.ops = log.ops.slice(cut);
      log.base = seq;
      if (log.maxSeq < seq) log.maxSeq = seq;
      let next = Math.max(log.contiguous, seq) + 1;
      while (log.ops[next - log.base - 1] !== undefined) next += 1;
      log.contiguous = next - 1;
    }
    this.heldCount -= dropped.length;
    return dropped;
  }
}
